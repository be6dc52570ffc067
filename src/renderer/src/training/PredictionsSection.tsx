/**
 * "Predictions and active learning": predict every image with the active version, and turn the
 * worklist into a queue (most uncertain, versions disagreeing, what changed with a version),
 * working out the figures a queue needs first when they are missing.
 */
import { useCallback, useEffect, useState } from 'react';
import type { Job } from '../../../shared/contract';
import type { ModelSummary } from '../../../shared/contract-ml';
import { api } from '../api';
import { useReviewStore } from '../review/review-store';
import { addStartedJob, useAppStore } from '../store';
import { message } from './interop-common';
import { queueFilter, type QueueSort } from './training-model';

export function PredictionsSection({
  active,
  predictJob,
  queueVersion,
  readOnly,
  run,
  onError,
}: {
  active: ModelSummary | null;
  predictJob: Job | null;
  /** The version the what-changed and disagreement queues look at. */
  queueVersion: string | null;
  readOnly: string | null;
  run: (action: () => Promise<unknown>) => void;
  onError: (message: string) => void;
}) {
  const [queueNote, setQueueNote] = useState<string | null>(null);
  const [pendingQueue, setPendingQueue] = useState<{
    sort: 'changed' | 'disagreement';
    version: string;
    jobId: string;
  } | null>(null);
  const pendingJob = useAppStore((state) =>
    pendingQueue ? (state.jobs[pendingQueue.jobId] ?? null) : null,
  );
  const predicting = predictJob?.state === 'running';

  const queue = useCallback(
    (sort: QueueSort, changesOf?: string, note: string | null = null) => {
      const current = useReviewStore.getState().query.filter;
      setQueueNote(note);
      useReviewStore.getState().setQuery({
        sort,
        direction: 'desc',
        filter: queueFilter(current, sort),
        ...(changesOf ? { changesOf } : {}),
      });
      // Open the head of the queue (loaded lazily: the review actions pull in the Konva viewer).
      import('../review/actions')
        .then(({ selectIndex }) => selectIndex(0))
        .catch((e: unknown) => onError(message(e)));
    },
    [onError],
  );

  // What changed / disagreement of the compared version (else the active one): never a silently
  // unsorted list. Without figures yet, predict where needed and compare first, or say why not.
  const versionQueue = async (sort: 'changed' | 'disagreement') => {
    const version = queueVersion;
    if (!version) {
      setQueueNote('No model version yet: train one first.');
      return;
    }
    try {
      const probe = await api['images.list']({
        sort,
        direction: 'desc',
        limit: 1,
        changesOf: version,
      });
      if (probe.items[0]?.[sort] != null) {
        queue(sort, version);
        return;
      }
      if (readOnly) {
        // Working the figures out writes them to the project: say so rather than be refused.
        setQueueNote(`No figures of what changed with ${version} yet. ${readOnly}`);
        return;
      }
      const job = await api['changes.start']({ version });
      addStartedJob(job);
      setPendingQueue({ sort, version, jobId: job.id });
      setQueueNote(`Predicting where needed and comparing ${version}…`);
    } catch (e) {
      setQueueNote(message(e));
    }
  };

  // The comparison a queue waited for has finished: open the queue, or say why it cannot.
  useEffect(() => {
    if (!pendingQueue || !pendingJob || pendingJob.state === 'running') return;
    setPendingQueue(null);
    if (pendingJob.state === 'succeeded') {
      const { images, reference } = (pendingJob.result ?? {}) as {
        images?: number;
        reference?: string;
      };
      // Said after the queue opens too: a comparison fast enough to finish unseen still says
      // what the worklist now is.
      const sortedBy = pendingQueue.sort === 'changed' ? 'what changed' : 'version disagreement';
      const compared = `Compared ${pendingQueue.version}${reference ? ` with ${reference}` : ''}`;
      if (images)
        queue(
          pendingQueue.sort,
          pendingQueue.version,
          `${compared} on ${images} image${images === 1 ? '' : 's'}: the worklist is sorted by ${sortedBy}.`,
        );
      else setQueueNote(`No image has predictions of both versions to compare.`);
    } else setQueueNote(`Comparison ${pendingJob.state}: ${pendingJob.error ?? ''}`);
  }, [pendingQueue, pendingJob, queue]);

  return (
    <section>
      <h4>Predictions and active learning</h4>
      <div className="actions">
        <button
          type="button"
          data-testid="predict-all"
          disabled={!active || predicting || readOnly !== null}
          title={readOnly ?? undefined}
          onClick={() =>
            // Shown at once: until the job's first event, the status would say the last run's.
            run(() => api['predict.start']({}).then(addStartedJob))
          }
        >
          Predict all images with {active?.version ?? 'the active model'}
        </button>
        {predicting && predictJob && (
          <button
            type="button"
            data-testid="predict-cancel"
            onClick={() => run(() => api['jobs.cancel']({ id: predictJob.id }))}
          >
            Cancel
          </button>
        )}
      </div>
      {predictJob && (
        <p
          className="muted"
          data-testid="predict-status"
          data-state={predictJob.state}
          data-job-id={predictJob.id}
        >
          {predictJob.state === 'running'
            ? `${predictJob.phase}: ${predictJob.done}/${predictJob.total ?? '?'}`
            : `last prediction ${predictJob.state}`}
        </p>
      )}
      <div className="actions">
        <button type="button" data-testid="queue-uncertainty" onClick={() => queue('uncertainty')}>
          Queue most uncertain
        </button>
        <button
          type="button"
          data-testid="queue-disagreement"
          disabled={pendingQueue !== null}
          onClick={() => void versionQueue('disagreement')}
        >
          Queue version disagreement
        </button>
        <button
          type="button"
          data-testid="queue-changed"
          disabled={pendingQueue !== null}
          onClick={() => void versionQueue('changed')}
        >
          What changed{queueVersion ? ` (${queueVersion})` : ''}
        </button>
      </div>
      {pendingJob?.state === 'running' && (
        <p className="muted" data-testid="queue-progress">
          {pendingJob.phase}
        </p>
      )}
      {queueNote && (
        <p className="muted" role="status" data-testid="queue-note">
          {queueNote}
        </p>
      )}
    </section>
  );
}
