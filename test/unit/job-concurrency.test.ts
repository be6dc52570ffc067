/**
 * One of each at a time: a job-starting request reserves its slot before its first await, so
 * requests that arrive together (while the worker starts, while a folder is being checked) get a
 * 409 naming what is running instead of all running, or failing half-way on a UNIQUE constraint.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDemoProject } from '../../src/core/dataset/demo';
import { JobManager } from '../../src/core/jobs';
import { createService, type Service } from '../../src/core/service';
import type { Job } from '../../src/shared/contract';
import { discProject } from './ml-fixtures';
import { tempDir } from './project-fixtures';

const services: Service[] = [];
afterEach(() => {
  while (services.length > 0) services.pop()?.close();
});

function open(dir: string): Service {
  const service = createService({ transport: 'http', backend: 'wasm', projectDir: dir });
  services.push(service);
  return service;
}

const tiny = { size: 32, base: 4, batch: 4, valFraction: 0.25, seed: 3, epochs: 1 } as const;

async function finish(service: Service, job: Job): Promise<Job> {
  await service.jobs.wait(job.id).catch(() => undefined);
  return service.jobs.get(job.id);
}

function rejections(results: PromiseSettledResult<unknown>[]) {
  return results
    .filter((result): result is PromiseRejectedResult => result.status === 'rejected')
    .map((result) => result.reason as { code?: string; message: string });
}

describe('job slots', () => {
  it('holds a slot from reservation until the job ends, and names the holder to a second caller', async () => {
    const manager = new JobManager(() => undefined);
    let finishRun: () => void = () => undefined;
    const job = await manager.startExclusive('train', 'a training run', 'train', async () => {
      return () => new Promise<void>((resolve) => (finishRun = resolve));
    });
    const refusal = await manager
      .startExclusive('train', 'a training run', 'train', async () => async () => 1)
      .catch((error: unknown) => error as { code: string; message: string });
    expect(refusal).toMatchObject({ code: 'conflict' });
    expect((refusal as { message: string }).message).toContain(
      `a training run is running (job ${job.id}`,
    );
    finishRun();
    await manager.wait(job.id);
    const next = await manager.startExclusive('train', 'a training run', 'train', async () => {
      return async () => 2;
    });
    expect(await manager.wait(next.id)).toBe(2);
  });

  it('gives the slot back when preparing the job fails', async () => {
    const manager = new JobManager(() => undefined);
    await expect(
      manager.startExclusive('import:/p', 'an import', 'import', async () => {
        throw new Error('no such folder');
      }),
    ).rejects.toThrow('no such folder');
    const job = await manager.startExclusive('import:/p', 'an import', 'import', async () => {
      return async () => 'ok';
    });
    expect(await manager.wait(job.id)).toBe('ok');
  });
});

describe('concurrent job requests through the service', () => {
  it('runs one of three train.start calls made while the worker starts; the others get 409', async () => {
    const project = await discProject(8, 2);
    const service = open(project.dir);
    expect(service.worker.getStatus().state).toBe('stopped');
    const results = await Promise.allSettled([
      service.invoke('train.start', tiny),
      service.invoke('train.start', tiny),
      service.invoke('train.start', tiny),
    ]);
    const started = results.filter(
      (result): result is PromiseFulfilledResult<Job> => result.status === 'fulfilled',
    );
    expect(started).toHaveLength(1);
    const refused = rejections(results);
    expect(refused).toHaveLength(2);
    for (const error of refused) {
      expect(error.code).toBe('conflict');
      expect(error.message).toMatch(/a training run( \(v1\))? is (starting|running)/);
    }
    // Only one version folder was claimed.
    expect(fs.readdirSync(path.join(project.dir, 'models'))).toEqual(['v1']);
    const job = started[0].value;
    expect((await finish(service, job)).state).toBe('succeeded');
    // Once it has ended the next one may start.
    const second = await service.invoke('train.start', { ...tiny, promote: 'never' });
    expect((await finish(service, second)).state).toBe('succeeded');
  }, 180_000);

  it('runs one of two dataset.import calls made together; the other gets 409, no UNIQUE error', async () => {
    const source = tempDir('concurrent-import-source');
    await createDemoProject(source, { count: 6, seed: 4, size: 32 });
    const service = open(tempDir('concurrent-import-project'));
    const root = path.join(source, 'demo-dataset');
    const results = await Promise.allSettled([
      service.invoke('dataset.import', { root }),
      service.invoke('dataset.import', { root }),
    ]);
    const refused = rejections(results);
    expect(refused).toHaveLength(1);
    expect(refused[0].code).toBe('conflict');
    expect(refused[0].message).toMatch(/an import .* is (starting|running)/);
    const job = (
      results.find((result) => result.status === 'fulfilled') as PromiseFulfilledResult<Job>
    ).value;
    expect(await finish(service, job)).toMatchObject({ state: 'succeeded', error: null });
    expect(service.jobs.list().filter((listed) => listed.state === 'failed')).toEqual([]);
    expect((await service.invoke('project.state')).imageCount).toBe(6);
  }, 60_000);

  it('runs one prediction per project at a time; evaluations run beside it', async () => {
    const project = await discProject(6, 2);
    const service = open(project.dir);
    expect((await finish(service, await service.invoke('train.start', tiny))).state).toBe(
      'succeeded',
    );
    // Ids of no image are the caller's mistake, said before any job starts.
    await expect(
      service.invoke('predict.start', { imageIds: [project.ids[0], 999_999] }),
    ).rejects.toMatchObject({ code: 'not-found', message: 'no image 999999' });
    expect(service.jobs.list().filter((job) => job.kind === 'predict')).toEqual([]);
    const results = await Promise.allSettled([
      service.invoke('predict.start', {}),
      service.invoke('predict.start', {}),
    ]);
    const refused = rejections(results);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ code: 'conflict' });
    expect(refused[0].message).toMatch(/a prediction with v1 is (starting|running)/);
    const evaluations = await Promise.all([
      service.invoke('evaluate.run', { split: 'test' }),
      service.invoke('evaluate.run', { split: 'train' }),
    ]);
    expect(evaluations.map((evaluation) => evaluation.images)).toEqual([2, 6]);
    const predict = (results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Job>)
      .value;
    expect((await finish(service, predict)).state).toBe('succeeded');
  }, 180_000);
});
