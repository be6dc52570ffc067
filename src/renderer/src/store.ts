/** App-wide state of the renderer, fed by the contract's methods and events. */
import { create } from 'zustand';
import type { AppInfo, Job, ProjectState, WorkerStatus } from '../../shared/contract';
import { api, onReadOnlyRefusal } from './api';
import { readOnlyMessage } from './common/read-only';

interface AppState {
  info: AppInfo | null;
  project: ProjectState | null;
  worker: WorkerStatus | null;
  jobs: Record<string, Job>;
  error: string | null;
  load: () => Promise<void>;
  setError: (message: string | null) => void;
}

export const useAppStore = create<AppState>((set) => ({
  info: null,
  project: null,
  worker: null,
  jobs: {},
  error: null,
  async load() {
    try {
      const [info, project, worker, jobs] = await Promise.all([
        api['app.info'](),
        api['project.state'](),
        api['worker.status'](),
        api['jobs.list'](),
      ]);
      set({ info, project, worker, jobs: Object.fromEntries(jobs.map((job) => [job.id, job])) });
    } catch (error) {
      set({ error: error instanceof Error ? error.message : String(error) });
    }
  },
  setError(message) {
    set({ error: message });
  },
}));

/** The hover text of a control that would write, or null while the project is writable. */
export function useReadOnlyMessage(): string | null {
  const reason = useAppStore((state) => state.project?.readOnly ?? null);
  return reason ? readOnlyMessage(reason) : null;
}

/** Keeps the store in step with host events; returns the unsubscribe function. */
export function subscribeToHost(): () => void {
  const offs = [
    api.on('project.changed', (project) => useAppStore.setState({ project })),
    api.on('worker.status', (worker) => useAppStore.setState({ worker })),
    api.on('job.updated', (job) =>
      useAppStore.setState((state) => ({ jobs: { ...state.jobs, [job.id]: job } })),
    ),
    // A write refused as read-only: the project's state says why, and the page turns writes off.
    onReadOnlyRefusal(() => {
      api['project.state']().then(
        (project) => useAppStore.setState({ project }),
        () => undefined,
      );
    }),
  ];
  // Events can be missed while the socket (re)connects: while a job runs, also ask for the job
  // list now and then, so a progress bar never sticks and a finished job is always seen.
  const poll = setInterval(() => {
    const running = Object.values(useAppStore.getState().jobs).some(
      (job) => job.state === 'running',
    );
    if (running) refreshJobs();
  }, JOB_POLL_MS);
  return () => {
    clearInterval(poll);
    offs.forEach((off) => off());
  };
}

const JOB_POLL_MS = 2000;

/** Puts one job's latest state into the store. */
export function upsertJob(job: Job): void {
  useAppStore.setState((state) => ({ jobs: { ...state.jobs, [job.id]: job } }));
}

/**
 * Puts a job just started into the store, from the start request's answer. An event about it may
 * have arrived first (the socket can beat the HTTP answer): that one is newer and is kept.
 */
export function addStartedJob(job: Job): void {
  useAppStore.setState((state) =>
    state.jobs[job.id] ? state : { jobs: { ...state.jobs, [job.id]: job } },
  );
}

/**
 * Asks the host for every job again. A failure is left unsaid here: the host is then unreachable,
 * which the connection banner already says, and the next poll or reconnect asks again.
 */
export function refreshJobs(): void {
  api['jobs.list']().then(
    (jobs) =>
      useAppStore.setState((state) => ({
        jobs: { ...state.jobs, ...Object.fromEntries(jobs.map((job) => [job.id, job])) },
      })),
    () => undefined,
  );
}
