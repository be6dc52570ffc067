/**
 * Long work in one place: every running job (import, training, inference, export) with its phase,
 * a progress bar and Cancel. Jobs that finished fold into one line that clears itself; a failed
 * job stays, with its reason, until dismissed.
 */
import { useCallback, useEffect, useState } from 'react';
import type { Job } from '../../../shared/contract';
import { api } from '../api';
import { errorMessage, notify } from '../common/notices';
import { refreshJobs, upsertJob, useAppStore } from '../store';

function percent(job: Job): number | null {
  if (job.total === null || job.total === 0) return null;
  return Math.min(100, Math.round((job.done / job.total) * 100));
}

export function JobRow({ job, onDismiss }: { job: Job; onDismiss?: () => void }) {
  const [cancelling, setCancelling] = useState(false);
  const value = percent(job);
  const running = job.state === 'running';
  return (
    <div className={`job job-${job.state}`} data-testid={`job-${job.kind}`} data-state={job.state}>
      <span className="job-kind">{job.kind}</span>
      {running && <span className="job-phase">{job.phase}</span>}
      {running && (
        <progress max={100} value={value ?? undefined} aria-label={`${job.kind} progress`} />
      )}
      {running && value !== null && <span className="muted">{value}%</span>}
      {job.state === 'failed' && <span className="job-error">failed: {job.error}</span>}
      {job.state === 'cancelled' && <span className="muted">cancelled</span>}
      {job.state === 'succeeded' && <span className="muted">done</span>}
      {running ? (
        <button
          type="button"
          disabled={cancelling}
          onClick={() => {
            setCancelling(true);
            api['jobs.cancel']({ id: job.id }).then(
              (latest) => upsertJob(latest),
              (error: unknown) => {
                setCancelling(false);
                notify(`Cancel ${job.kind} failed: ${errorMessage(error)}`);
                refreshJobs();
              },
            );
          }}
        >
          {cancelling ? 'Cancelling…' : 'Cancel'}
        </button>
      ) : (
        onDismiss && (
          <button type="button" aria-label="Dismiss" onClick={onDismiss}>
            ×
          </button>
        )
      )}
    </div>
  );
}

/** How long the folded line of finished jobs stays after the last one finished. */
export const FINISHED_LINE_MS = 8000;

const DISMISSED_KEY = 'qataseg.jobs.dismissed';

/** Dismissed jobs of this tab, kept across reloads (a failure once dismissed stays dismissed). */
function loadDismissed(): Set<string> {
  try {
    return new Set(JSON.parse(sessionStorage.getItem(DISMISSED_KEY) ?? '[]') as string[]);
  } catch {
    return new Set();
  }
}

function saveDismissed(ids: Set<string>): void {
  try {
    sessionStorage.setItem(DISMISSED_KEY, JSON.stringify([...ids].slice(-500)));
  } catch {
    // Storage disabled: dismissals last for this page only.
  }
}

function outcome(job: Job): string {
  return `${job.kind} ${job.state === 'succeeded' ? 'done' : 'cancelled'}`;
}

export function JobsBar() {
  const jobs = useAppStore((state) => state.jobs);
  const [dismissed, setDismissed] = useState(loadDismissed);
  const shown = Object.values(jobs)
    .filter((job) => !dismissed.has(job.id))
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  const running = shown.filter((job) => job.state === 'running');
  const failed = shown.filter((job) => job.state === 'failed');
  const finished = shown.filter((job) => job.state === 'succeeded' || job.state === 'cancelled');
  const finishedIds = finished.map((job) => job.id).join(' ');

  const dismiss = useCallback(
    (ids: string[]) =>
      setDismissed((previous) => {
        const next = new Set(previous);
        ids.forEach((id) => next.add(id));
        saveDismissed(next);
        return next;
      }),
    [],
  );

  // The folded line clears itself a while after the last job in it finished.
  useEffect(() => {
    if (!finishedIds) return;
    const timer = setTimeout(() => dismiss(finishedIds.split(' ')), FINISHED_LINE_MS);
    return () => clearTimeout(timer);
  }, [finishedIds, dismiss]);

  if (shown.length === 0) return null;
  return (
    <div className="jobs-bar" data-testid="jobs-bar">
      {running.map((job) => (
        <JobRow key={job.id} job={job} />
      ))}
      {failed.map((job) => (
        <JobRow key={job.id} job={job} onDismiss={() => dismiss([job.id])} />
      ))}
      {finished.length > 0 && (
        <div className="job job-finished" data-testid="jobs-finished">
          <span className="muted">
            ✓ {finished.length} {finished.length === 1 ? 'job' : 'jobs'} finished:{' '}
            {finished.map(outcome).join(' · ')}
          </span>
          <button
            type="button"
            aria-label="Dismiss finished jobs"
            onClick={() => dismiss(finished.map((job) => job.id))}
          >
            ×
          </button>
        </div>
      )}
    </div>
  );
}
