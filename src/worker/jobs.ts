/**
 * The worker's job table: kind -> handler. Handlers run inside the ML worker process with the
 * loaded tfjs runtime; they report progress and must check `signal` between steps. The worker owns
 * the table: it takes the ML room's jobs from core (core never imports the worker).
 */
import { mlWorkerJobs } from '../core/ml/worker-jobs';
import type { WorkerJobHandler } from '../core/ml/worker-job';

export const workerJobs = new Map<string, WorkerJobHandler>(Object.entries(mlWorkerJobs));

export function registerWorkerJob(kind: string, handler: WorkerJobHandler): void {
  workerJobs.set(kind, handler);
}

// A probe that proves the runtime computes: sums a small tensor on the loaded backend.
registerWorkerJob('probe', async (_params, { tf, backend }) => {
  const sum = tf.tidy(() => tf.tensor1d([1, 2, 3, 4]).sum().dataSync()[0]);
  return { backend, sum, pid: process.pid };
});

// Test-only jobs, so tests can prove the host survives a crash and that cancel is obeyed.
if (process.env.QATASEG_TEST_JOBS === '1') {
  registerWorkerJob('test.crash', async () => {
    process.exit(70);
  });
  registerWorkerJob('test.uncaught', async () => {
    setTimeout(() => {
      throw new Error('a stray error outside any job');
    });
    return new Promise(() => undefined);
  });
  // A worker that neither reads its messages nor lets SIGTERM end it (stuck in native code).
  registerWorkerJob('test.hang', async () => {
    process.on('SIGTERM', () => undefined);
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      // Busy: the event loop never turns.
    }
    return {};
  });
  registerWorkerJob('test.count', async (params, context) => {
    const { steps, stepMs } = params as { steps: number; stepMs: number };
    for (let step = 1; step <= steps; step++) {
      if (context.signal.aborted) throw new Error('cancelled');
      await new Promise((resolve) => setTimeout(resolve, stepMs));
      context.progress({ step, steps });
    }
    return { steps };
  });
}
