/**
 * Cancel always ends a job: work stuck in a step that never looks at the signal (the old export
 * looping in mkdir under /proc) must not keep the job running and its slot taken forever.
 */
import { describe, expect, it } from 'vitest';
import { JobManager } from '../../src/core/jobs';

describe('cancel', () => {
  it('ends a job whose work never stops, with a reason, and frees its slot', async () => {
    const jobs = new JobManager(() => undefined, { cancelGraceMs: 50 });
    const stuck = await jobs.startExclusive(
      'export',
      'an export',
      'export',
      () => () => new Promise<never>(() => undefined),
    );
    jobs.cancel(stuck.id);
    await expect(jobs.wait(stuck.id)).rejects.toThrow(/did not stop/);
    const ended = jobs.get(stuck.id);
    expect(ended.state).toBe('cancelled');
    expect(ended.error).toMatch(/did not stop/);
    const next = await jobs.startExclusive('export', 'an export', 'export', () => async () => 7);
    await expect(jobs.wait(next.id)).resolves.toBe(7);
  });

  it('keeps the reason of work that stops by itself when cancelled', async () => {
    const jobs = new JobManager(() => undefined, { cancelGraceMs: 60_000 });
    const job = jobs.start(
      'export',
      (reporter) =>
        new Promise((_, reject) =>
          reporter.signal.addEventListener('abort', () => reject(new Error('export cancelled'))),
        ),
    );
    jobs.cancel(job.id);
    await expect(jobs.wait(job.id)).rejects.toThrow('export cancelled');
    expect(jobs.get(job.id).state).toBe('cancelled');
  });
});
