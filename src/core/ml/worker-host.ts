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
  /** Ends the process: politely (SIGTERM), or with `force` where the platform can (SIGKILL). */
  kill(force?: boolean): void;
}

export type WorkerLauncher = () => WorkerChannel;

interface PendingJob {
  /** The worker process the job was sent to: its exit ends the job. */
  channel: WorkerChannel;
  onProgress: (progress: unknown) => void;
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
}

/** How long a stopped worker gets to exit before it is killed by force and its jobs failed. */
const STOP_GRACE_MS = 5_000;
/** How often a ready worker is pinged. */
const HEARTBEAT_INTERVAL_MS = 5_000;
/**
 * How long a worker may go without a message before it is replaced. Generous: a synchronous
 * step of training or a graph build may keep its event loop for seconds, never minutes.
 */
const HEARTBEAT_TIMEOUT_MS = 90_000;

export interface WorkerHostOptions {
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
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
  /** Resolves when a launched worker process has exited. */
  private readonly exits = new WeakMap<WorkerChannel, Promise<void>>();
  /** Why a worker was told to go (stop, restart): the reason its jobs end with. */
  private readonly stopReasons = new WeakMap<WorkerChannel, string>();
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
    private readonly options: WorkerHostOptions = {},
  ) {}

  /**
   * Pings a ready worker; any message from it counts as an answer. A worker silent past the
   * timeout (its event loop stuck: a job spinning in one synchronous call) is killed at once and
   * its jobs fail with that reason; the next job starts a new one.
   */
  private watch(channel: WorkerChannel, lastHeard: () => number): void {
    const interval = this.options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS;
    const timeout = this.options.heartbeatTimeoutMs ?? HEARTBEAT_TIMEOUT_MS;
    let seq = 0;
    const timer = setInterval(() => {
      if (this.channel !== channel) {
        clearInterval(timer);
        return;
      }
      const silent = Date.now() - lastHeard();
      if (silent > timeout) {
        clearInterval(timer);
        const reason = `ML worker stopped answering for ${Math.round(silent / 1000)} s (stuck in one step) and was replaced`;
        this.onLog('error', reason);
        this.stopReasons.set(channel, reason);
        this.channel = null;
        this.setStatus({ state: 'crashed', lastError: reason });
        this.failJobsOf(channel, reason);
        channel.kill(true);
        return;
      }
      try {
        channel.send({ type: 'ping', seq: seq++ });
      } catch {
        // Gone: its exit ends its jobs.
      }
    }, interval);
    timer.unref();
  }

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
      // The last words of a worker that died of an uncaught error, for the reason its jobs end with.
      let fatal: string | null = null;
      let heard = Date.now();
      channel.onMessage((raw) => {
        heard = Date.now();
        const parsed = workerToHostSchema.safeParse(raw);
        if (!parsed.success) {
          this.onLog('warn', `ignored malformed worker message: ${parsed.error.message}`);
          return;
        }
        const message = parsed.data;
        if (message.type === 'ready') {
          if (this.channel !== channel) return;
          this.setStatus({
            state: 'ready',
            backend: message.backend,
            ladder: message.ladder,
            lastError: null,
          });
          settled = true;
          this.watch(channel, () => heard);
          resolve(this.getStatus());
        } else if (message.type === 'init-failed') {
          if (this.channel === channel) {
            this.setStatus({
              state: 'crashed',
              ladder: message.ladder,
              lastError: message.message,
            });
          }
          settled = true;
          reject(new WorkerCrashedError(message.message));
          channel.kill();
        } else if (message.type === 'fatal') {
          fatal = message.message;
          this.onLog('error', `ML worker: ${message.message}`);
        } else {
          this.route(message);
        }
      });
      this.exits.set(
        channel,
        new Promise<void>((exited) =>
          channel.onExit((code, signal) => {
            const exit = `ML worker exited (${signal ? `signal ${signal}` : `code ${code}`})`;
            const reason = this.stopReasons.get(channel) ?? (fatal ? `${exit}: ${fatal}` : exit);
            if (this.channel === channel) {
              this.channel = null;
              if (this.status.state !== 'stopped')
                this.setStatus({ state: 'crashed', lastError: reason });
            }
            this.failJobsOf(channel, reason);
            if (!settled) {
              settled = true;
              reject(new WorkerCrashedError(reason));
            }
            exited();
          }),
        ),
      );
      channel.send(hostToWorkerSchema.parse({ type: 'init', backend: this.backend }));
    });
    return this.readyPromise;
  }

  /** Ends every job sent to `channel` with the reason its worker went away. */
  private failJobsOf(channel: WorkerChannel, reason: string): void {
    for (const [id, job] of this.pending) {
      if (job.channel !== channel) continue;
      this.pending.delete(id);
      job.reject(new WorkerCrashedError(`${reason} while running job ${id}`));
    }
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
      case 'pong':
        break;
      default:
        break;
    }
  }

  /**
   * Runs a job in the worker. Resolves with its result, rejects with WorkerJobError (including
   * cancellation) or WorkerCrashedError if the process died or was stopped. A job cancelled before
   * it reached the worker (while the worker starts) is never sent.
   */
  async run(
    kind: string,
    params: unknown,
    options: { signal?: AbortSignal; onProgress?: (progress: unknown) => void } = {},
  ): Promise<unknown> {
    const { signal } = options;
    await untilAborted(this.ensureStarted(), signal);
    // Aborted while this function was resuming: an abort listener added now would never fire.
    if (signal?.aborted) throw cancelledBeforeStart();
    const channel = this.channel;
    if (!channel) throw new WorkerCrashedError('ML worker is not running');
    const jobId = `w${this.nextJob++}`;
    return new Promise((resolve, reject) => {
      const cancel = () => channel.send({ type: 'cancel', jobId });
      const settle = () => signal?.removeEventListener('abort', cancel);
      this.pending.set(jobId, {
        channel,
        onProgress: options.onProgress ?? (() => undefined),
        resolve: (result) => {
          settle();
          resolve(result);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
      signal?.addEventListener('abort', cancel, { once: true });
      channel.send({ type: 'job', jobId, kind, params });
    });
  }

  /** Stops the worker, waits for its process to go (its jobs fail, naming the restart), starts anew. */
  async restart(): Promise<WorkerStatus> {
    const old = this.channel;
    this.stop('ML worker was restarted');
    if (old) await this.exits.get(old);
    this.setStatus({ restarts: this.status.restarts + 1 });
    return this.ensureStarted();
  }

  /**
   * Tells the worker to go and kills it. Its jobs fail with `reason` when the process has exited;
   * a worker still there after a grace period (stuck, ignoring SIGTERM) is killed by force and its
   * jobs failed then.
   */
  stop(reason = 'ML worker was stopped'): void {
    const channel = this.channel;
    this.setStatus({ state: 'stopped' });
    this.channel = null;
    this.readyPromise = null;
    if (!channel) return;
    this.stopReasons.set(channel, reason);
    try {
      channel.send({ type: 'shutdown' });
    } catch {
      // Already gone.
    }
    channel.kill();
    const grace = setTimeout(() => {
      this.failJobsOf(channel, reason);
      channel.kill(true);
    }, STOP_GRACE_MS);
    grace.unref();
    void this.exits.get(channel)?.then(() => clearTimeout(grace));
  }
}

function cancelledBeforeStart(): WorkerJobError {
  return new WorkerJobError('cancelled before the ML worker began the job', true);
}

/**
 * Waits for `promise`, rejecting at once with a cancelled WorkerJobError when `signal` aborts (or
 * has aborted) first.
 */
async function untilAborted<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) throw cancelledBeforeStart();
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(cancelledBeforeStart());
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
