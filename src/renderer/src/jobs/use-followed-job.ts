/**
 * The job a dialog started, followed until it ends: kept in the store (its updates arrive as
 * events) and, while it runs, the job list polled once a second, because an update sent while
 * the event socket was reconnecting is otherwise lost and the dialog would wait forever.
 */
import { useEffect, useState } from 'react';
import type { Job } from '../../../shared/contract';
import { addStartedJob, refreshJobs, useAppStore } from '../store';

export function useFollowedJob(): {
  job: Job | undefined;
  follow: (started: Job) => void;
  forget: () => void;
} {
  const [jobId, setJobId] = useState<string | null>(null);
  const job = useAppStore((state) => (jobId ? state.jobs[jobId] : undefined));
  const running = job?.state === 'running';
  useEffect(() => {
    if (!jobId || !running) return;
    const timer = setInterval(refreshJobs, 1000);
    return () => clearInterval(timer);
  }, [jobId, running]);
  return {
    job,
    follow: (started) => {
      addStartedJob(started);
      setJobId(started.id);
    },
    forget: () => setJobId(null),
  };
}
