/**
 * What the fault suite checks after each fault: the service answers, every job has ended with a
 * reason, and the dataset folders are byte for byte what they were.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { generateDemoDataset } from '../../src/core/dataset/demo';
import type { Service } from '../../src/core/service';
import type { Job } from '../../src/shared/contract';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `qataseg-fault-${prefix}-`));
}

/** A demo dataset (synthetic chest X-ray phantoms, QaTa layout) outside any project. */
export async function demoDataset(count: number, size: number, seed = 3): Promise<string> {
  const root = path.join(tempDir('dataset'), 'demo');
  await generateDemoDataset(root, { count, size, seed });
  return root;
}

/** sha256 of every file under `dir`, by relative path. */
export function hashTree(dir: string): Record<string, string> {
  const hashes: Record<string, string> = {};
  const walk = (folder: string) => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const file = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(file);
      else
        hashes[path.relative(dir, file)] = createHash('sha256')
          .update(fs.readFileSync(file))
          .digest('hex');
    }
  };
  walk(dir);
  return hashes;
}

/** The pid of the ML worker process, asked of the worker itself. */
export async function workerPid(service: Service): Promise<number> {
  const { pid } = (await service.worker.run('probe', {})) as { pid: number };
  return pid;
}

export async function finish(service: Service, job: Job): Promise<Job> {
  await service.jobs.wait(job.id).catch(() => undefined);
  return service.jobs.get(job.id);
}

/** Resolves with the first `job.updated` (of job `jobId`, if given) that `test` accepts. */
export function jobUpdate(
  service: Service,
  test: (job: Job) => boolean,
  jobId?: string,
): Promise<Job> {
  return new Promise((resolve) => {
    const stop = service.subscribe((event, payload) => {
      const job = payload as Job;
      if (event !== 'job.updated' || (jobId !== undefined && job.id !== jobId)) return;
      if (test(job)) {
        stop();
        resolve(job);
      }
    });
  });
}

/** The service answers its read methods, and no job is left running or ended without a reason. */
export async function expectServiceHealthy(service: Service): Promise<void> {
  await expect(service.invoke('project.state')).resolves.toMatchObject({
    projectDir: expect.any(String) as string,
  });
  await expect(service.invoke('models.list')).resolves.toBeInstanceOf(Array);
  await expect(service.invoke('worker.status')).resolves.toMatchObject({
    state: expect.any(String) as string,
  });
  const jobs = await service.invoke('jobs.list');
  for (const job of jobs) {
    expect(job.state, `job ${job.id} (${job.kind})`).not.toBe('running');
    expect(job.finishedAt, `job ${job.id} (${job.kind})`).not.toBeNull();
    if (job.state === 'failed' || job.state === 'cancelled') {
      expect(job.error, `job ${job.id} (${job.kind})`).toMatch(/\w/);
    }
  }
}

/** Prediction revisions stored for a version (each acknowledged save is one). */
export function predictionRevisions(service: Service, version: string): number {
  const row = service
    .project()
    .db.prepare(
      "SELECT COUNT(*) AS n FROM mask_revisions WHERE source = 'prediction' AND model_version = ?",
    )
    .get(version) as { n: number };
  return row.n;
}
