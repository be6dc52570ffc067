/**
 * The chosen studies and series retrieved one after the other (the host runs one retrieve per
 * project at a time): each is a `pacs.retrieve` job followed to its end, its result or failure
 * kept for the report; cancelling the running one drops those still waiting.
 */
import { useEffect, useRef, useState } from 'react';
import type { Job } from '../../../shared/contract';
import type { PacsRetrieveResult } from '../../../shared/pacs-schemas';
import { api } from '../api';
import { errorMessage } from '../common/notices';
import { useFollowedJob } from '../jobs/use-followed-job';
import type { RetrieveTarget } from './StudyTable';

export interface RetrieveOutcome {
  target: RetrieveTarget;
  result?: PacsRetrieveResult;
  /** Why it did not finish (a failure, or 'cancelled'). */
  error?: string;
}

export function useRetrieveQueue(): {
  job: Job | undefined;
  /** Targets not started yet. */
  waiting: number;
  active: boolean;
  outcomes: RetrieveOutcome[];
  start: (connection: string, targets: RetrieveTarget[]) => void;
} {
  const { job, follow, forget } = useFollowedJob();
  const [outcomes, setOutcomes] = useState<RetrieveOutcome[]>([]);
  const [active, setActive] = useState(false);
  const [waiting, setWaiting] = useState(0);
  const queue = useRef<{ connection: string; targets: RetrieveTarget[] }>({
    connection: '',
    targets: [],
  });
  const current = useRef<RetrieveTarget | null>(null);
  const handled = useRef<string | null>(null);

  const launch = async (): Promise<void> => {
    const next = queue.current.targets.shift();
    setWaiting(queue.current.targets.length);
    current.current = next ?? null;
    if (!next) {
      setActive(false);
      return;
    }
    try {
      follow(
        await api['pacs.retrieve']({
          name: queue.current.connection,
          studyInstanceUid: next.studyInstanceUid,
          seriesInstanceUid: next.seriesInstanceUid,
        }),
      );
    } catch (caught) {
      setOutcomes((list) => [...list, { target: next, error: errorMessage(caught) }]);
      await launch();
    }
  };

  useEffect(() => {
    if (!job || job.state === 'running' || handled.current === job.id) return;
    handled.current = job.id;
    const target = current.current;
    if (!target) return;
    const outcome: RetrieveOutcome =
      job.state === 'succeeded'
        ? { target, result: job.result as PacsRetrieveResult }
        : { target, error: job.state === 'cancelled' ? 'cancelled' : (job.error ?? 'failed') };
    setOutcomes((list) => [...list, outcome]);
    // A cancel stops the whole retrieve, not just the study in hand.
    if (job.state === 'cancelled') queue.current.targets = [];
    void launch();
    // launch reads refs only; the job's end is what this waits for.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [job]);

  return {
    job,
    waiting,
    active,
    outcomes,
    start: (connection, targets) => {
      forget();
      setOutcomes([]);
      setActive(true);
      queue.current = { connection, targets: [...targets] };
      void launch();
    },
  };
}
