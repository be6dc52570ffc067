import { afterEach, describe, expect, it } from 'vitest';
import { LADDER } from '../../src/core/ml/backends';
import { nodeWorkerLauncher } from '../../src/core/ml/node-launcher';
import { WorkerCrashedError, WorkerHost, WorkerJobError } from '../../src/core/ml/worker-host';
import type { WorkerStatus } from '../../src/shared/contract';

const hosts: WorkerHost[] = [];
function newHost(statuses: WorkerStatus[] = []): WorkerHost {
  const host = new WorkerHost(
    nodeWorkerLauncher(undefined, { ...process.env, QATASEG_TEST_JOBS: '1' }),
    'auto',
    (status) => statuses.push(status),
  );
  hosts.push(host);
  return host;
}

afterEach(() => {
  for (const host of hosts.splice(0)) host.stop();
});

describe('ML worker process', () => {
  it('loads a backend of the ladder and computes with it', async () => {
    const host = newHost();
    const status = await host.ensureStarted();
    expect(status.state).toBe('ready');
    expect(LADDER).toContain(status.backend);
    expect(status.ladder.map((step) => step.backend)).toEqual(LADDER);
    expect(status.ladder.find((step) => step.status === 'loaded')?.backend).toBe(status.backend);
    const result = (await host.run('probe', {})) as { sum: number; pid: number };
    expect(result.sum).toBe(10);
    expect(result.pid).not.toBe(process.pid);
  });

  it('honours a forced backend and says why the others were skipped', async () => {
    const host = new WorkerHost(nodeWorkerLauncher(), 'cpu');
    hosts.push(host);
    const status = await host.ensureStarted();
    expect(status.backend).toBe('cpu');
    expect(status.ladder.filter((step) => step.status === 'skipped')).toHaveLength(
      LADDER.length - 1,
    );
  });

  it('streams progress and obeys cancel', async () => {
    const host = newHost();
    const controller = new AbortController();
    const steps: number[] = [];
    const run = host.run(
      'test.count',
      { steps: 200, stepMs: 20 },
      {
        signal: controller.signal,
        onProgress: (progress) => {
          steps.push((progress as { step: number }).step);
          if (steps.length === 3) controller.abort();
        },
      },
    );
    await expect(run).rejects.toSatisfy(
      (error: unknown) => error instanceof WorkerJobError && error.cancelled,
    );
    expect(steps.slice(0, 3)).toEqual([1, 2, 3]);
    expect(steps.length).toBeLessThan(200);
  });

  it('reports a crash as a failed job, stays up, and restarts on demand', async () => {
    const statuses: WorkerStatus[] = [];
    const host = newHost(statuses);
    await host.ensureStarted();
    await expect(host.run('test.crash', {})).rejects.toBeInstanceOf(WorkerCrashedError);
    expect(host.getStatus().state).toBe('crashed');
    expect(host.getStatus().lastError).toContain('code 70');
    // The next job starts a fresh worker.
    const result = (await host.run('probe', {})) as { sum: number };
    expect(result.sum).toBe(10);
    expect(host.getStatus().restarts).toBe(1);
    expect(statuses.map((status) => status.state)).toContain('crashed');
  });
});
