/**
 * Host side of the ML worker: starts it through an injected launcher (child_process.fork under
 * Node, utilityProcess in Electron), validates its messages, routes job progress, and turns a
 * crash into a failed job and a 'crashed' status instead of taking the host down.
 */
import type { BackendChoice, WorkerStatus } from '../../shared/contract';
import {
  hostToWorkerSchema,
  workerToHostSchema,
  type HostToWorker,
  type WorkerToHost,
} from '../../shared/worker-protocol';

/** A started worker process, whatever launched it. */
export interface WorkerChannel {
  send(message: HostToWorker): void;
  onMessage(listener: (message: unknown) => void): void;
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  kill(): void;
}

export type WorkerLauncher = () => WorkerChannel;

interface PendingJob {
  onProgress: (progress: unknown) => void;
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
}

export class WorkerCrashedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkerCrashedError';
  }
}

export class WorkerJobError extends Error {
  constructor(
    message: string,
    readonly cancelled: boolean,
  ) {
    super(message);
    this.name = 'WorkerJobError';
  }
}

export class WorkerHost {
  private channel: WorkerChannel | null = null;
  private readyPromise: Promise<WorkerStatus> | null = null;
  private readonly pending = new Map<string, PendingJob>();
  private nextJob = 1;
  private status: WorkerStatus = {
    state: 'stopped',
    backend: null,
    ladder: [],
    lastError: null,
    restarts: 0,
  };

  constructor(
    private readonly launcher: WorkerLauncher,
    private readonly backend: BackendChoice,
    private readonly onStatus: (status: WorkerStatus) => void = () => undefined,
    private readonly onLog: (level: string, message: string) => void = () => undefined,
  ) {}

  getStatus(): WorkerStatus {
    return { ...this.status, ladder: [...this.status.ladder] };
  }

  private setStatus(patch: Partial<WorkerStatus>): void {
    this.status = { ...this.status, ...patch };
    this.onStatus(this.getStatus());
  }

  /** Starts the worker if needed and resolves once it reports its backend. */
  ensureStarted(): Promise<WorkerStatus> {
    if (this.readyPromise && this.status.state !== 'crashed') return this.readyPromise;
    if (this.status.state === 'crashed') this.setStatus({ restarts: this.status.restarts + 1 });
    this.readyPromise = new Promise<WorkerStatus>((resolve, reject) => {
      this.setStatus({ state: 'starting' });
      const channel = this.launcher();
      this.channel = channel;
      let settled = false;
      channel.onMessage((raw) => {
        const parsed = workerToHostSchema.safeParse(raw);
        if (!parsed.success) {
          this.onLog('warn', `ignored malformed worker message: ${parsed.error.message}`);
          return;
        }
        const message = parsed.data;
        if (message.type === 'ready') {
          this.setStatus({
            state: 'ready',
            backend: message.backend,
            ladder: message.ladder,
            lastError: null,
          });
          settled = true;
          resolve(this.getStatus());
        } else if (message.type === 'init-failed') {
          this.setStatus({ state: 'crashed', ladder: message.ladder, lastError: message.message });
          settled = true;
          reject(new WorkerCrashedError(message.message));
          channel.kill();
        } else {
          this.route(message);
        }
      });
      channel.onExit((code, signal) => {
        if (this.channel !== channel) return;
        this.channel = null;
        const reason = `ML worker exited (${signal ? `signal ${signal}` : `code ${code}`})`;
        const wasStopping = this.status.state === 'stopped';
        if (!wasStopping) this.setStatus({ state: 'crashed', lastError: reason });
        for (const [id, job] of this.pending) {
          job.reject(new WorkerCrashedError(`${reason} while running job ${id}`));
        }
        this.pending.clear();
        if (!settled) {
          settled = true;
          reject(new WorkerCrashedError(reason));
        }
      });
      channel.send(hostToWorkerSchema.parse({ type: 'init', backend: this.backend }));
    });
    return this.readyPromise;
  }

  private route(message: WorkerToHost): void {
    switch (message.type) {
      case 'progress':
        this.pending.get(message.jobId)?.onProgress(message.progress);
        break;
      case 'result': {
        const job = this.pending.get(message.jobId);
        this.pending.delete(message.jobId);
        job?.resolve(message.result);
        break;
      }
      case 'error': {
        const job = this.pending.get(message.jobId);
        this.pending.delete(message.jobId);
        job?.reject(new WorkerJobError(message.message, message.cancelled));
        break;
      }
      case 'log':
        this.onLog(message.level, message.message);
        break;
      default:
        break;
    }
  }

  /**
   * Runs a job in the worker. Resolves with its result, rejects with WorkerJobError (including
   * cancellation) or WorkerCrashedError if the process died.
   */
  async run(
    kind: string,
    params: unknown,
    options: { signal?: AbortSignal; onProgress?: (progress: unknown) => void } = {},
  ): Promise<unknown> {
    await this.ensureStarted();
    const channel = this.channel;
    if (!channel) throw new WorkerCrashedError('ML worker is not running');
    const jobId = `w${this.nextJob++}`;
    return new Promise((resolve, reject) => {
      this.pending.set(jobId, {
        onProgress: options.onProgress ?? (() => undefined),
        resolve,
        reject,
      });
      const cancel = () => channel.send({ type: 'cancel', jobId });
      if (options.signal?.aborted) cancel();
      options.signal?.addEventListener('abort', cancel, { once: true });
      channel.send({ type: 'job', jobId, kind, params });
    });
  }

  async restart(): Promise<WorkerStatus> {
    this.stop();
    this.readyPromise = null;
    this.setStatus({ restarts: this.status.restarts + 1 });
    return this.ensureStarted();
  }

  stop(): void {
    const channel = this.channel;
    this.setStatus({ state: 'stopped' });
    this.channel = null;
    this.readyPromise = null;
    if (channel) {
      try {
        channel.send({ type: 'shutdown' });
      } catch {
        // Already gone.
      }
      channel.kill();
    }
  }
}
