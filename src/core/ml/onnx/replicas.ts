/**
 * Data-parallel training steps: a batch is split across replica threads (./replica-thread.ts),
 * each running the step graph of its part with its own onnxruntime session, and the parts'
 * losses, gradients and batch statistics are combined here as the whole batch's.
 *
 * Why: on 2 cores one session with 2 intra-op threads leaves a core idle at every node's barrier
 * and through the small, memory-bound nodes (batch norm's passes, reorders, pooling), while two
 * 1-thread sessions on half a batch each keep both busy: 1.23x the product's loop at 256 px
 * (bench/README.md, "Fifth round"). What it changes: batch norm normalises each part with the
 * part's own statistics, and the Dice term is each part's Dice (as PyTorch's data parallelism
 * without synchronised batch norm does); the moving averages get the whole batch's statistics.
 * That cost accuracy in the phantom proof at 256 px (0.012 test Dice at the median of 11 seed
 * pairs, with BCE alone as well: the parts' separate batch norms, not the Dice term), so it is
 * opt-in (QATASEG_REPLICAS=N). Exact statistics would need the parts to meet at every batch norm
 * inside the step, which one session.run cannot do.
 */
import { Worker } from 'node:worker_threads';
import type * as OrtModule from 'onnxruntime-node';
import { threadScript } from '../thread-script';
import type { ReplicaReply, ReplicaRequest, TensorData } from './replica-messages';

/** Sizes of the parts of a batch of `count` over at most `replicas` replicas of 2+ images each. */
export function splitBatch(count: number, replicas: number): number[] {
  const parts = Math.max(1, Math.min(replicas, Math.floor(count / 2)));
  const size = Math.floor(count / parts);
  return Array.from({ length: parts }, (_, index) => size + (index < count % parts ? 1 : 0));
}

/**
 * The whole batch's mean and (biased) variance of a channel from its parts': the mean of the
 * means, and the mean of the variances plus the variance of the means, each weighted by the
 * part's share of the batch.
 */
export function combineStatistics(
  parts: { mean: Float32Array; variance: Float32Array; share: number }[],
): { mean: Float32Array; variance: Float32Array } {
  const channels = parts[0].mean.length;
  const mean = new Float32Array(channels);
  const variance = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    let m = 0;
    for (const part of parts) m += part.share * part.mean[c];
    let v = 0;
    for (const part of parts) v += part.share * (part.variance[c] + (part.mean[c] - m) ** 2);
    mean[c] = m;
    variance[c] = v;
  }
  return { mean, variance };
}

/** Replica threads, each holding one step session. */
export class ReplicaPool {
  private readonly pending = new Map<number, (reply: ReplicaReply) => void>();
  private nextId = 0;
  /** Set when a thread failed: every later call refuses with it. */
  private failure: string | null = null;

  private constructor(private readonly workers: Worker[]) {
    for (const worker of workers) {
      worker.on('message', (reply: ReplicaReply) => {
        this.pending.get(reply.id)?.(reply);
        this.pending.delete(reply.id);
        if (this.pending.size === 0) for (const w of this.workers) w.unref();
      });
      const fail = (reason: string) => {
        this.failure ??= reason;
        for (const [id, resolve] of this.pending) resolve({ id, error: reason });
        this.pending.clear();
      };
      worker.on('error', (error) => fail(`replica thread failed: ${error.message}`));
      worker.on('exit', () => fail('replica thread exited'));
      worker.unref();
    }
  }

  /** Starts `count` threads, or says why it cannot. */
  static start(count: number): ReplicaPool | string {
    const entry = threadScript(new URL('./replica-thread.ts', import.meta.url));
    if (!entry) return 'no replica thread script';
    const workers: Worker[] = [];
    try {
      for (let i = 0; i < count; i++) workers.push(new Worker(entry.script, { eval: entry.eval }));
    } catch (error) {
      for (const worker of workers) void worker.terminate();
      return `replica threads did not start: ${(error as Error).message}`;
    }
    return new ReplicaPool(workers);
  }

  get size(): number {
    return this.workers.length;
  }

  private call(worker: Worker, request: ReplicaRequest, transfer: ArrayBuffer[] = []) {
    return new Promise<Record<string, TensorData>>((resolve, reject) => {
      if (this.failure) {
        reject(new Error(this.failure));
        return;
      }
      this.pending.set(request.id, (reply) => {
        if (reply.error) reject(new Error(reply.error));
        else resolve(reply.outputs ?? {});
      });
      worker.ref();
      worker.postMessage(request, transfer);
    });
  }

  /**
   * Gives replica i the session of graph `graphs[i]` (the step graph of its part's size), and the
   * feeds every run shares: typed arrays on a SharedArrayBuffer, read in place at each run.
   */
  async load(
    graphs: Uint8Array[],
    options: OrtModule.InferenceSession.SessionOptions,
    shared: Record<string, TensorData>,
  ): Promise<void> {
    await Promise.all(
      graphs.map((bytes, index) =>
        this.call(this.workers[index], {
          type: 'session',
          id: this.nextId++,
          bytes,
          options,
          shared,
        }),
      ),
    );
  }

  /** Runs replica i on `feeds[i]` (every replica at once); their outputs in the same order. */
  run(feeds: Record<string, TensorData>[]): Promise<Record<string, TensorData>[]> {
    return Promise.all(
      feeds.map((part, index) =>
        this.call(this.workers[index], { type: 'run', id: this.nextId++, feeds: part }),
      ),
    );
  }

  /** Releases the replicas' sessions (and their memory), keeping the threads. */
  async release(): Promise<void> {
    await Promise.all(
      this.workers.map((worker) => this.call(worker, { type: 'release', id: this.nextId++ })),
    );
  }

  async close(): Promise<void> {
    this.failure ??= 'the replicas were closed';
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
