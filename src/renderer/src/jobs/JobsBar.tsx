/**
 * Long work in one place: every running job (import, training, inference, export) with its phase,
 * a progress bar and Cancel; finished jobs stay listed with their outcome until dismissed.
 */
import { useState } from 'react';
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

export function JobsBar() {
  const jobs = useAppStore((state) => state.jobs);
  const [dismissed, setDismissed] = useState<Set<string>>(new Set());
  const visible = Object.values(jobs)
    .filter((job) => !dismissed.has(job.id))
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt))
    .slice(0, 4);
  if (visible.length === 0) return null;
  return (
    <div className="jobs-bar" data-testid="jobs-bar">
      {visible.map((job) => (
        <JobRow
          key={job.id}
          job={job}
          onDismiss={() => setDismissed((previous) => new Set(previous).add(job.id))}
        />
      ))}
    </div>
  );
}
