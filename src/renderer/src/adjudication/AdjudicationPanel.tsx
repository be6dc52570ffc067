/**
 * The adjudicator's panel: the queue of disputed images (readers disagree) and, for the one
 * chosen, the adjudication view. A decided image leaves the queue. Its keys are the editor
 * registry's adjudication actions, working while the focus is in the panel (its key scope); the
 * panel publishes its queue position (the review store's `adjudication`) for them and attaches
 * the step to the next or previous disputed image.
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type {
  AdjudicationImage,
  AdjudicationQueueItem,
} from '../../../shared/adjudication-schemas';
import { api } from '../api';
import { AdjudicationView } from './AdjudicationView';
import { attachAdjudication } from './adjudication-state';
import { useReviewStore } from '../review/review-store';
import './adjudication.css';

export function AdjudicationPanel({ open, onClose }: { open: boolean; onClose: () => void }) {
  const [queue, setQueue] = useState<AdjudicationQueueItem[] | null>(null);
  const [view, setView] = useState<AdjudicationImage | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    try {
      setQueue(await api['adjudication.queue']({}));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }, []);

  useEffect(() => {
    if (open) void refresh();
  }, [open, refresh]);

  const choose = async (item: AdjudicationQueueItem) => {
    setError(null);
    setNotice(null);
    try {
      setView(await api['adjudication.get']({ planId: item.planId, imageId: item.imageId }));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  const position = view
    ? (queue?.findIndex((item) => item.planId === view.planId && item.imageId === view.imageId) ??
      -1)
    : -1;
  const queueLength = queue?.length ?? 0;
  // Layout effects: the registry must know the queue in the same commit that shows it, or a key
  // pressed as the queue appears finds "no disputed image" (passive effects run after the paint).
  useLayoutEffect(() => {
    const { set, adjudication } = useReviewStore.getState();
    if (!open) {
      set({ adjudication: null });
      return;
    }
    set({
      adjudication: {
        queueLength,
        position: position >= 0 ? position : null,
        view: adjudication?.view ?? null,
      },
    });
  }, [open, queueLength, position]);
  useLayoutEffect(() => () => useReviewStore.getState().set({ adjudication: null }), []);

  const step = useRef<(direction: 1 | -1) => Promise<void>>(async () => undefined);
  step.current = async (direction) => {
    if (!queue || queue.length === 0) return;
    const next =
      position < 0
        ? direction === 1
          ? 0
          : queue.length - 1
        : (position + direction + queue.length) % queue.length;
    await choose(queue[next]);
  };
  useLayoutEffect(() => attachAdjudication({ step: (direction) => step.current(direction) }), []);

  if (!open) return null;
  return (
    <section
      className="adjudication-panel"
      data-testid="adjudication-panel"
      data-key-scope="adjudication"
    >
      <header className="row">
        <h2>Adjudication</h2>
        <span className="spacer" />
        <button type="button" onClick={onClose}>
          Close
        </button>
      </header>
      <div className="adjudication-body">
        <ol className="adjudication-queue" data-testid="adj-queue">
          {queue?.length === 0 && <li className="muted">No disputed image left.</li>}
          {queue?.map((item) => (
            <li key={`${item.planId}:${item.imageId}`}>
              <button
                type="button"
                data-testid="adj-queue-item"
                aria-current={view?.imageId === item.imageId && view.planId === item.planId}
                onClick={() => void choose(item)}
              >
                {item.image}
                <span className="muted">
                  {' '}
                  Dice {item.meanDice.toFixed(2)}
                  {item.split ? ', split' : ''}
                </span>
              </button>
            </li>
          ))}
        </ol>
        {view ? (
          <AdjudicationView
            key={`${view.planId}:${view.imageId}`}
            view={view}
            onDecided={(basis) => {
              setNotice(`${view.image}: final label saved (${basis})`);
              setView(null);
              void refresh();
            }}
          />
        ) : (
          <p className="muted">Choose a disputed image.</p>
        )}
      </div>
      {notice && (
        <p role="status" data-testid="adj-notice">
          {notice}
        </p>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </section>
  );
}
