/** Pieces the Training panel's interop forms share: messages, paths, job tracking, a choice. */
import { useState } from 'react';
import type { Job } from '../../../shared/contract';
import { api } from '../api';
import { useAppStore } from '../store';

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Picks a folder with the native dialog where there is one; null when the user types paths. */
export async function pickFolder(): Promise<string | null> {
  const picked = await api['system.pickFolder']();
  return picked.path;
}

export function joinPath(folder: string, name: string): string {
  const separator = folder.includes('\\') && !folder.includes('/') ? '\\' : '/';
  return folder.endsWith(separator) ? `${folder}${name}` : `${folder}${separator}${name}`;
}

/** Starts a job and keeps it in the store (its updates then arrive as events). */
export function useJob() {
  const [jobId, setJobId] = useState<string | null>(null);
  const job = useAppStore((state) => (jobId ? state.jobs[jobId] : undefined));
  const track = (started: Job) => {
    useAppStore.setState((state) => ({ jobs: { ...state.jobs, [started.id]: started } }));
    setJobId(started.id);
  };
  return { job, track, reset: () => setJobId(null) };
}

/** A select whose first option is "choose…": nothing is preselected. */
export function Choice(props: {
  label: string;
  value: string;
  options: readonly string[];
  testId: string;
  onChange: (value: string) => void;
}) {
  return (
    <label>
      {props.label}{' '}
      <select
        value={props.value}
        data-testid={props.testId}
        onChange={(event) => props.onChange(event.target.value)}
      >
        <option value="">choose…</option>
        {props.options.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </select>
    </label>
  );
}
