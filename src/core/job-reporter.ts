/**
 * What a room's long work sees of the job it runs in: progress, cancel, and the error that says
 * "cancelled". A leaf, so rooms report progress without importing the job manager (core/jobs.ts)
 * that sits above them.
 */
import type { Job, JobKind } from '../shared/contract';

export interface JobReporter {
  /** Updates progress; cheap to call often (events are throttled to ~10 per second). */
  progress(update: {
    phase?: string;
    done?: number;
    total?: number | null;
    detail?: Record<string, unknown>;
  }): void;
  readonly signal: AbortSignal;
}

export type JobRunner<R> = (reporter: JobReporter) => Promise<R>;

export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/**
 * The job ended because of what it was given, having changed nothing (a model onnxruntime cannot
 * load, predictions none of which can be used): a refusal, not a failure. The job fails with
 * `detail.refused` set, and the CLI exits 2 for it as for a refused request.
 */
export class RefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedError';
  }
}

export function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new CancelledError();
}

/** Starts long work as a job (core/jobs.ts's JobManager is the one implementation). */
export interface JobStarter {
  start<R>(kind: JobKind, runner: JobRunner<R>, onEnd?: () => void): Job;
}

/** Lets a job's preparation say more precisely what holds its slot (a version once claimed). */
export interface SlotHandle {
  describe(what: string): void;
}

/** What handlers see of the job manager: start, follow and cancel jobs. */
export interface JobControl extends JobStarter {
  list(): Job[];
  get(id: string): Job;
  /** Resolves with the runner's result once the job has ended (for CLI use). */
  wait(id: string): Promise<unknown>;
  cancel(id: string): Job;
  /** Starts a job that must be the only one of its `slot`; a second caller gets a 'conflict'. */
  startExclusive<R>(
    slot: string,
    what: string,
    kind: JobKind,
    prepare: (handle: SlotHandle) => Promise<JobRunner<R>> | JobRunner<R>,
  ): Promise<Job>;
}
