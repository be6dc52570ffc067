/**
 * Overlaps the training loop's data pipeline with the step: onnxruntime-node runs a step
 * synchronously on the calling thread, so the next batch's crop, augmentation and weight maps
 * are prepared on a worker thread (./batch-thread.ts) meanwhile. Batches are a pure function of
 * their request (./batch.ts), so where they are made changes nothing; if the thread cannot start
 * or fails, batches are made inline.
 */
import { Worker } from 'node:worker_threads';
import { prepareBatch, type BatchRequest, type PreparedBatch } from './batch';
import { threadScript } from './thread-script';

type Reply = { id: number; batch?: PreparedBatch; error?: string };

export class BatchLoader {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, (reply: Reply) => void>();
  private nextId = 0;
  /** Why batches are made inline, when they are. */
  inlineReason: string | null = null;

  constructor(useThread = process.env.QATASEG_LOADER_THREAD !== '0') {
    if (!useThread) {
      this.inlineReason = 'QATASEG_LOADER_THREAD=0';
      return;
    }
    const entry = threadScript(new URL('./batch-thread.ts', import.meta.url));
    if (!entry) {
      this.inlineReason = 'no loader thread script';
      return;
    }
    try {
      const worker = new Worker(entry.script, { eval: entry.eval });
      worker.on('message', (reply: Reply) => {
        this.pending.get(reply.id)?.(reply);
        this.pending.delete(reply.id);
        if (this.pending.size === 0) worker.unref();
      });
      const fail = (reason: string) => {
        this.inlineReason = reason;
        this.worker = null;
        for (const [id, resolve] of this.pending) resolve({ id, error: reason });
        this.pending.clear();
      };
      worker.on('error', (error) => fail(`loader thread failed: ${error.message}`));
      worker.on('exit', () => fail('loader thread exited'));
      // Referenced while batches are pending, so a loop awaiting one keeps the process alive.
      worker.unref();
      this.worker = worker;
    } catch (error) {
      this.inlineReason = `loader thread did not start: ${(error as Error).message}`;
    }
  }

  /**
   * Starts preparing a batch on the thread, or makes it now (`inline`, or without a thread: the
   * first batch of an epoch has no step to hide behind, and the thread may still be starting).
   */
  request(request: BatchRequest, inline = false): Promise<PreparedBatch> {
    const worker = inline ? null : this.worker;
    if (!worker) {
      // Inline: made now, on this thread (the time the loop spends here is the loader's).
      try {
        return Promise.resolve(prepareBatch(request));
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
    const id = this.nextId++;
    return new Promise<PreparedBatch>((resolve) => {
      this.pending.set(id, (reply) => {
        // A thread that failed leaves the batch to this thread: same request, same floats.
        resolve(reply.batch ?? prepareBatch(request));
      });
      worker.ref();
      worker.postMessage({ id, request });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    this.pending.clear();
    if (worker) await worker.terminate();
  }
}
