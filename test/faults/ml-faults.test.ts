/**
 * The ML side of the fault suite, on a demo dataset imported into a real project with the real
 * worker process: the worker killed (SIGKILL) while it trains, predicts and evaluates; restarted
 * while it trains; three trainings and two imports started at once; a state.json and a card torn.
 * After each: the service answers, every job has ended with a reason, the dataset folder is byte
 * for byte unchanged, and nothing acknowledged (an epoch reported done, a prediction counted) was
 * lost. The tests run in order on one project: the model trained by the first is used by the next.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService, type Service } from '../../src/core/service';
import type { Job } from '../../src/shared/contract';
import {
  demoDataset,
  expectServiceHealthy,
  finish,
  hashTree,
  jobUpdate,
  predictionRevisions,
  tempDir,
  workerPid,
} from './fault-fixtures';

const small = { size: 32, base: 4, batch: 4, valFraction: 0.2, seed: 2 } as const;

/**
 * The limit of each test (a guard against a hang). In the flake audit (test/FLAKE-AUDIT.md, 2
 * shared cores at a load average of 14-17) the kill-while-training test took 87, 180 and 245 s and
 * then passed the old 300 s limit (every later test failed after it, on the run it left going),
 * and the three-trainings test took up to 188 s: 900 s is 3 times the 300 s the slowest had
 * reached when it was stopped.
 */
describe('ML faults', { timeout: 900_000 }, () => {
  let service: Service;
  let dataset: string;
  let datasetHashes: Record<string, string>;
  let projectDir: string;

  beforeAll(async () => {
    dataset = await demoDataset(120, 64);
    datasetHashes = hashTree(dataset);
    projectDir = tempDir('project');
    service = createService({ transport: 'http', backend: 'wasm', projectDir });
    const imported = await finish(
      service,
      await service.invoke('dataset.import', { root: dataset }),
    );
    expect(imported.state).toBe('succeeded');
  }, 120_000);

  afterAll(() => service?.close());

  const expectDatasetUnchanged = () => expect(hashTree(dataset)).toEqual(datasetHashes);

  it('kill -9 of the worker while it trains: the run fails naming the signal, keeps its epochs, resumes', async () => {
    const pid = await workerPid(service);
    const job = await service.invoke('train.start', { ...small, epochs: 3 });
    const acknowledged = await jobUpdate(
      service,
      (update) => ((update.detail.history as unknown[] | undefined)?.length ?? 0) >= 1,
      job.id,
    );
    process.kill(pid, 'SIGKILL');
    const failed = await finish(service, job);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/ML worker exited \(signal SIGKILL\)/);
    await expectServiceHealthy(service);
    const epochs = (acknowledged.detail.history as unknown[]).length;
    const [run] = await service.invoke('models.list');
    expect(run).toMatchObject({ version: 'v1', state: 'incomplete' });
    expect(run.epochsDone).toBeGreaterThanOrEqual(epochs);
    expect(fs.existsSync(path.join(projectDir, 'models', 'v1', 'train.lock'))).toBe(false);
    expectDatasetUnchanged();

    const resumed = await finish(service, await service.invoke('train.resume', { version: 'v1' }));
    expect(resumed.error).toBeNull();
    const card = await service.invoke('models.get', { version: 'v1' });
    expect(card.history.map((record) => record.epoch)).toEqual([1, 2, 3]);
    await expectServiceHealthy(service);
  });

  it('a worker restart while it trains fails the run naming the restart and frees its lock', async () => {
    const job = await service.invoke('train.start', { ...small, epochs: 50, promote: 'never' });
    // After its first checkpoint, so that the run can be resumed (and its state torn below).
    await jobUpdate(
      service,
      (update) => ((update.detail.history as unknown[] | undefined)?.length ?? 0) >= 1,
      job.id,
    );
    const status = await service.invoke('worker.restart');
    expect(status.state).toBe('ready');
    const failed = await finish(service, job);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/ML worker was restarted while running job/);
    const version = (failed.detail.version as string) ?? 'v2';
    expect(fs.existsSync(path.join(projectDir, 'models', version, 'train.lock'))).toBe(false);
    await expectServiceHealthy(service);
    // Another training may start now: the slot went with the job.
    const next = await service.invoke('train.resume', { version });
    service.jobs.cancel(next.id);
    expect((await finish(service, next)).state).toBe('cancelled');
    expectDatasetUnchanged();
  });

  it('kill -9 of the worker while it predicts: the run fails, every counted prediction is stored', async () => {
    const pid = await workerPid(service);
    const before = predictionRevisions(service, 'v1');
    const job = await service.invoke('predict.start', { model: 'v1' });
    await jobUpdate(service, (update) => update.done >= 1, job.id);
    process.kill(pid, 'SIGKILL');
    const failed = await finish(service, job);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/ML worker exited \(signal SIGKILL\)/);
    expect(failed.done).toBeGreaterThanOrEqual(1);
    expect(failed.done).toBeLessThan(failed.total ?? 0);
    expect(predictionRevisions(service, 'v1') - before).toBe(failed.done);
    await expectServiceHealthy(service);
    expectDatasetUnchanged();
    // The next run starts a fresh worker.
    const again = await finish(service, await service.invoke('predict.start', { model: 'v1' }));
    expect(again.state).toBe('succeeded');
  });

  it('kill -9 of the worker while it evaluates: the evaluation fails naming the signal', async () => {
    const pid = await workerPid(service);
    const started = jobUpdate(service, (update) => update.kind === 'evaluate' && update.done >= 1);
    const evaluation = service.invoke('evaluate.run', { model: 'v1', split: 'all' });
    evaluation.catch(() => undefined);
    // An evaluation that fails or ends before its first image is reported fails the test here.
    const { id } = await Promise.race([
      started,
      evaluation.then(() => {
        throw new Error('the evaluation ended before it could be interrupted');
      }),
    ]);
    process.kill(pid, 'SIGKILL');
    await expect(evaluation).rejects.toThrow(/ML worker exited \(signal SIGKILL\)/);
    const job = service.jobs.get(id);
    expect(job).toMatchObject({ state: 'failed' } satisfies Partial<Job>);
    await expectServiceHealthy(service);
    expectDatasetUnchanged();
  });

  it('three trainings and two imports started at once: one of each runs, the others get 409', async () => {
    const before = fs.readdirSync(path.join(projectDir, 'models')).sort();
    const results = await Promise.allSettled([
      service.invoke('train.start', { ...small, epochs: 1, promote: 'never' }),
      service.invoke('dataset.import', { root: dataset }),
      service.invoke('train.start', { ...small, epochs: 1, promote: 'never' }),
      service.invoke('dataset.import', { root: dataset }),
      service.invoke('train.start', { ...small, epochs: 1, promote: 'never' }),
    ]);
    const started = results
      .filter((result): result is PromiseFulfilledResult<Job> => result.status === 'fulfilled')
      .map((result) => result.value);
    expect(started.map((job) => job.kind).sort()).toEqual(['import', 'train']);
    const refused = results
      .filter((result): result is PromiseRejectedResult => result.status === 'rejected')
      .map((result) => result.reason as { code: string; message: string });
    expect(refused.map((error) => error.code)).toEqual(['conflict', 'conflict', 'conflict']);
    expect(
      refused.filter((error) => /an import .* is (starting|running)/.test(error.message)),
    ).toHaveLength(1);
    expect(
      refused.filter((error) => /a training run.* is (starting|running)/.test(error.message)),
    ).toHaveLength(2);
    for (const job of started) expect((await finish(service, job)).state).toBe('succeeded');
    const after = fs.readdirSync(path.join(projectDir, 'models')).sort();
    expect(after.length - before.length).toBe(1);
    expect((await service.invoke('project.state')).imageCount).toBe(120);
    await expectServiceHealthy(service);
    expectDatasetUnchanged();
  });

  it('a torn state.json and a torn card: the versions list as damaged and the service answers', async () => {
    const models = path.join(projectDir, 'models');
    const tear = (file: string) => fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 25));
    tear(path.join(models, 'v1', 'card.json'));
    tear(path.join(models, 'v2', 'checkpoint', 'state.json'));
    const list = await service.invoke('models.list');
    const byVersion = new Map(list.map((model) => [model.version, model]));
    expect(byVersion.get('v1')).toMatchObject({ state: 'damaged', active: true });
    expect(byVersion.get('v1')?.damage).toMatch(/card\.json is damaged/);
    expect(byVersion.get('v2')).toMatchObject({ state: 'damaged' });
    expect(byVersion.get('v2')?.damage).toMatch(/checkpoint\/state\.json is damaged/);
    expect(list.filter((model) => model.state === 'complete').length).toBeGreaterThanOrEqual(1);
    await expect(service.invoke('predict.start', {})).rejects.toMatchObject({ code: 'conflict' });
    await expect(service.invoke('train.resume', { version: 'v2' })).rejects.toMatchObject({
      code: 'conflict',
    });
    await expectServiceHealthy(service);
    expectDatasetUnchanged();
  }, 120_000);
});
