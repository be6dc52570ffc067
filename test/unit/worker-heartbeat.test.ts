/**
 * A worker that stops answering (its event loop stuck, as exportOnnx to /proc spun it) is replaced,
 * and the jobs it held end with that reason: `evaluate.run` used to hang while `worker.status`
 * said ready. The host pings the worker while it is ready; no answer within the timeout ends it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { nodeWorkerLauncher } from '../../src/core/ml/node-launcher';
import { WorkerCrashedError, WorkerHost } from '../../src/core/ml/worker-host';
import type { WorkerStatus } from '../../src/shared/contract';

const hosts: WorkerHost[] = [];
afterEach(() => {
  for (const host of hosts.splice(0)) host.stop();
});

describe('ML worker heartbeat', () => {
  it('replaces a worker that stops answering and fails its jobs with the reason', async () => {
    const statuses: WorkerStatus[] = [];
    const host = new WorkerHost(
      nodeWorkerLauncher(undefined, { ...process.env, QATASEG_TEST_JOBS: '1' }),
      'cpu',
      (status) => statuses.push(status),
      () => undefined,
      { heartbeatIntervalMs: 250, heartbeatTimeoutMs: 2_000 },
    );
    hosts.push(host);
    await host.ensureStarted();
    // Busy for 60 s without turning its event loop, and deaf to SIGTERM.
    const hung = host.run('test.hang', {});
    await expect(hung).rejects.toBeInstanceOf(WorkerCrashedError);
    await expect(hung).rejects.toThrow(/stopped answering/);
    expect(statuses.some((status) => /stopped answering/.test(status.lastError ?? ''))).toBe(true);
    // The next job gets a fresh worker.
    const result = (await host.run('probe', {})) as { sum: number };
    expect(result.sum).toBe(10);
  }, 40_000);

  it('keeps a worker that answers while it works', async () => {
    const host = new WorkerHost(
      nodeWorkerLauncher(undefined, { ...process.env, QATASEG_TEST_JOBS: '1' }),
      'cpu',
      () => undefined,
      () => undefined,
      { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 1_000 },
    );
    hosts.push(host);
    await expect(host.run('test.count', { steps: 30, stepMs: 100 })).resolves.toEqual({
      steps: 30,
    });
    expect(host.getStatus().restarts).toBe(0);
  }, 40_000);
});
