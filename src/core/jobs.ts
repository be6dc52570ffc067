/**
 * Long work on the host: every job reports progress as `job.updated` events, can be cancelled
 * through an AbortSignal, and ends as succeeded, failed (with the reason) or cancelled.
 */
import { randomUUID } from 'node:crypto';
import { ApiError, type Job, type JobKind } from '../shared/contract';
import {
  CancelledError,
  RefusedError,
  type JobControl,
  type JobReporter,
  type JobRunner,
  type SlotHandle,
} from './job-reporter';

const EMIT_INTERVAL_MS = 100;
/** How long a cancelled job's work may take to stop before the job ends without it. */
const CANCEL_GRACE_MS = 10_000;

export interface JobManagerOptions {
  cancelGraceMs?: number;
}

/** What a held slot tells the next caller. */
interface SlotHolder {
  what: string;
  jobId: string | null;
}

export class JobManager implements JobControl {
  private readonly jobs = new Map<
    string,
    { job: Job; controller: AbortController; done: Promise<unknown> }
  >();
  private readonly slots = new Map<string, SlotHolder>();

  private readonly cancelGraceMs: number;

  constructor(
    private readonly onUpdate: (job: Job) => void,
    options: JobManagerOptions = {},
  ) {
    this.cancelGraceMs = options.cancelGraceMs ?? CANCEL_GRACE_MS;
  }

  list(): Job[] {
    return [...this.jobs.values()].map((entry) => ({ ...entry.job }));
  }

  get(id: string): Job {
    const entry = this.jobs.get(id);
    if (!entry) throw new ApiError('not-found', `no job ${id}`);
    return { ...entry.job };
  }

  /** Resolves with the runner's result once the job has ended (for CLI use). */
  wait(id: string): Promise<unknown> {
    const entry = this.jobs.get(id);
    if (!entry) throw new ApiError('not-found', `no job ${id}`);
    return entry.done;
  }

  cancel(id: string): Job {
    const entry = this.jobs.get(id);
    if (!entry) throw new ApiError('not-found', `no job ${id}`);
    entry.controller.abort();
    return { ...entry.job };
  }

  /**
   * Starts a job that must be the only one of its `slot` (a training per worker, an import per
   * project, ...). The slot is taken before the first await, so callers that arrive together get a
   * 'conflict' naming what holds it; it is held while `prepare` runs (which may await: start the
   * worker, check a folder) and until the job ends, and given back if `prepare` throws.
   */
  async startExclusive<R>(
    slot: string,
    what: string,
    kind: JobKind,
    prepare: (handle: SlotHandle) => Promise<JobRunner<R>> | JobRunner<R>,
  ): Promise<Job> {
    const held = this.slots.get(slot);
    if (held) throw new ApiError('conflict', this.describeHolder(held));
    const holder: SlotHolder = { what, jobId: null };
    this.slots.set(slot, holder);
    const release = () => {
      if (this.slots.get(slot) === holder) this.slots.delete(slot);
    };
    let runner: JobRunner<R>;
    try {
      runner = await prepare({ describe: (text) => (holder.what = text) });
    } catch (error) {
      release();
      throw error;
    }
    const job = this.start(kind, runner, release);
    holder.jobId = job.id;
    return job;
  }

  private describeHolder(holder: SlotHolder): string {
    const job = holder.jobId ? this.jobs.get(holder.jobId)?.job : undefined;
    if (!job) return `${holder.what} is starting: wait for it to begin, then cancel it or wait`;
    return `${holder.what} is running (job ${job.id}, ${job.phase}): wait for it or cancel it`;
  }

  start<R>(kind: JobKind, runner: JobRunner<R>, onEnd: () => void = () => undefined): Job {
    const controller = new AbortController();
    const job: Job = {
      id: randomUUID(),
      kind,
      state: 'running',
      phase: 'starting',
      done: 0,
      total: null,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      error: null,
      detail: {},
    };
    let lastEmit = 0;
    let pending: NodeJS.Timeout | null = null;
    const emitNow = () => {
      lastEmit = Date.now();
      if (pending) clearTimeout(pending);
      pending = null;
      this.onUpdate({ ...job });
    };
    const reporter: JobReporter = {
      signal: controller.signal,
      progress: (update) => {
        if (update.phase !== undefined) job.phase = update.phase;
        if (update.done !== undefined) job.done = update.done;
        if (update.total !== undefined) job.total = update.total;
        if (update.detail) job.detail = { ...job.detail, ...update.detail };
        const wait = EMIT_INTERVAL_MS - (Date.now() - lastEmit);
        if (wait <= 0) emitNow();
        else pending ??= setTimeout(emitNow, wait);
      },
    };
    // Cancel always ends the job: work stuck in a step that never looks at the signal is
    // abandoned after a grace period rather than holding the job and its slot forever.
    const abandoned = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => {
        setTimeout(
          () =>
            reject(
              new CancelledError(
                `cancelled: the work did not stop within ${Math.round(this.cancelGraceMs / 1000)} s of the cancel (phase ${job.phase}) and was abandoned`,
              ),
            ),
          this.cancelGraceMs,
        ).unref();
      });
    });
    const done = (async () => {
      try {
        const result = await Promise.race([runner(reporter), abandoned]);
        job.state = 'succeeded';
        job.result = result;
        return result;
      } catch (error) {
        const cancelled = controller.signal.aborted || error instanceof CancelledError;
        job.state = cancelled ? 'cancelled' : 'failed';
        job.error = error instanceof Error ? error.message : String(error);
        if (!cancelled && error instanceof RefusedError)
          job.detail = { ...job.detail, refused: true };
        throw error;
      } finally {
        job.finishedAt = new Date().toISOString();
        onEnd();
        emitNow();
      }
    })();
    // A failed job is reported through its state; nobody has to await it.
    done.catch(() => undefined);
    this.jobs.set(job.id, { job, controller, done });
    emitNow();
    return { ...job };
  }
}
