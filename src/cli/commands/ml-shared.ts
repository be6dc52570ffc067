/**
 * What train, predict and evaluate share: hosting the service in this process (the ML worker runs
 * beside it exactly as in the app), following a job's `job.updated` events as a progress bar on a
 * TTY, JSON lines with --json, or plain lines otherwise, and Ctrl-C as cancel.
 */
import type { Job } from '../../shared/contract';
import type { SkippedImage } from '../../shared/contract-ml';
import { ApiError, backendChoiceSchema } from '../../shared/contract';
import { fail, printJson } from '../output';
import { isRefusal, openSession, type CliSession } from '../project-access';
import { plural } from '../../shared/plural';

/** `auto|tensorflow-gpu|tensorflow|onnxruntime|wasm|cpu`, for help texts and errors. */
export const BACKEND_CHOICES = backendChoiceSchema.options.join('|');

export interface CommonOptions {
  project?: string;
  backend: string;
  json?: boolean;
}

/**
 * The project for train, predict and evaluate: hosted in this process (the ML worker beside it),
 * or the `qataseg serve` that has it open; waits its turn behind another command.
 */
export function openService(
  options: CommonOptions,
  what: string,
  access: { reader?: boolean } = {},
): Promise<CliSession> {
  if (!options.project) fail('--project DIR is required');
  const parsed = backendChoiceSchema.safeParse(options.backend);
  if (!parsed.success) fail(`unknown backend ${options.backend}: ${BACKEND_CHOICES}`);
  return openSession(options.project, parsed.data, what, access);
}

/**
 * Runs `work` on the project of `--project` (this process or its server), then closes it; a
 * refusal exits 2 with its message, another error of the service 1.
 */
export async function withProject<T>(
  options: { project: string },
  what: string,
  reader: boolean,
  work: (session: CliSession) => Promise<T>,
): Promise<T> {
  const session = await openService({ project: options.project, backend: 'auto' }, what, {
    reader,
  });
  try {
    return await work(session);
  } catch (error) {
    if (error instanceof ApiError) fail(error.message, isRefusal(error) ? 2 : 1);
    throw error;
  } finally {
    session.close();
  }
}

/** Lines naming the images a job left out and why ('' when none). */
export function skippedLines(skipped: SkippedImage[] | undefined): string {
  if (!skipped || skipped.length === 0) return '';
  const lines = skipped.map((entry) => `  ${entry.image}: ${entry.reason}`);
  return `skipped ${plural(skipped.length, 'image')}:\n${lines.join('\n')}\n`;
}

export function parseInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number)) fail(`not an integer: ${value}`);
  return number;
}

export function parseNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number)) fail(`not a number: ${value}`);
  return number;
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** One line describing a job's progress (the bar on a TTY, a log line elsewhere). */
export function describeJob(job: Job, width = 28): string {
  const detail = job.detail;
  const fraction = job.total ? Math.min(1, job.done / job.total) : null;
  const bar =
    fraction === null
      ? ''
      : `[${'#'.repeat(Math.round(fraction * width)).padEnd(width, '.')}] ${(fraction * 100).toFixed(0).padStart(3)}% `;
  const parts = [job.phase];
  if (typeof detail.loss === 'number') parts.push(`loss ${detail.loss.toFixed(4)}`);
  if (typeof detail.valDice === 'number') parts.push(`val Dice ${detail.valDice.toFixed(3)}`);
  if (typeof detail.imagesPerSecond === 'number')
    parts.push(`${detail.imagesPerSecond.toFixed(1)} img/s`);
  if (typeof detail.etaSeconds === 'number' && job.state === 'running') {
    parts.push(`ETA ${formatSeconds(detail.etaSeconds)}`);
  }
  return `${bar}${parts.join('  ')}`;
}

/**
 * Follows a job until it ends. Ctrl-C cancels it (a second Ctrl-C exits at once). Resolves with
 * the final job; the caller decides what a failure means.
 */
export async function followJob(
  service: CliSession,
  started: Job,
  options: { json?: boolean; onEpoch?: (job: Job) => void } = {},
): Promise<Job> {
  const tty = Boolean(process.stderr.isTTY) && !options.json;
  let lastEpochs = 0;
  let lastLine = '';
  const unsubscribe = service.subscribe((event, payload) => {
    if (event !== 'job.updated') return;
    const job = payload as Job;
    if (job.id !== started.id) return;
    if (options.json) {
      printJson({
        event: 'progress',
        state: job.state,
        phase: job.phase,
        done: job.done,
        total: job.total,
        ...job.detail,
        history: undefined,
      });
    } else if (tty) {
      process.stderr.write(
        `\r${describeJob(job)
          .slice(0, (process.stderr.columns || 100) - 1)
          .padEnd(lastLine.length)}`,
      );
      lastLine = describeJob(job);
    }
    const history = Array.isArray(job.detail.history) ? job.detail.history : [];
    if (history.length > lastEpochs) {
      lastEpochs = history.length;
      options.onEpoch?.(job);
    }
  });
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\ncancelling (Ctrl-C again to quit at once)...\n');
    service.cancelJob(started.id);
  };
  process.on('SIGINT', onInterrupt);
  try {
    return await service.waitJob(started.id);
  } finally {
    process.off('SIGINT', onInterrupt);
    unsubscribe();
    if (tty) process.stderr.write('\n');
  }
}
