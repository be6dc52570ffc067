/**
 * The Training panel: configure and run a training job (from scratch or fine-tuned from the
 * active version), watch its curves, compare the finished version with the active one on the
 * locked test split, promote or roll back, predict every image with the active model, and turn the
 * worklist into an active-learning queue. Training runs in the ML worker; this panel only renders
 * the job updates the host relays, so the viewer and editing stay responsive. It holds what its
 * sections share (the versions, the comparison, the newest jobs); each section is its own file.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { ModelComparison, ModelSummary } from '../../../shared/contract-ml';
import { api } from '../api';
import { useReviewStore } from '../review/review-store';
import { useAppStore, useReadOnlyMessage } from '../store';
import { message } from './interop-common';
import { NewRunForm } from './NewRunForm';
import { PredictionsSection } from './PredictionsSection';
import { TrainingStatus } from './TrainingStatus';
import { newest } from './training-model';
import { VersionsSection } from './VersionsSection';
import './training.css';

export function TrainingPanel({ open, onClose }: { open: boolean; onClose: () => void }) {
  // Only the newest training and prediction jobs: other jobs' updates do not re-render the panel.
  const trainJob = useAppStore((state) => newest(state.jobs, 'train'));
  const predictJob = useAppStore((state) => newest(state.jobs, 'predict'));
  const worker = useAppStore((state) => state.worker);
  // Set while the project is read-only: what every button that would write says on hover.
  const readOnly = useReadOnlyMessage();
  const [models, setModels] = useState<ModelSummary[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [compareWith, setCompareWith] = useState<string | null>(null);
  const [comparison, setComparison] = useState<ModelComparison | null>(null);
  const active = models.find((model) => model.active) ?? null;

  const refreshModels = useCallback(async () => {
    try {
      setModels(await api['models.list']());
    } catch (e) {
      setError(message(e));
    }
  }, []);

  // Versions change when a run starts, finishes, or a version is promoted / rolled back; the
  // worklist's figures follow the active model, so it refetches too. Kept while the panel is
  // closed: a promotion from the CLI or another window still refreshes the worklist.
  useEffect(() => {
    const off = api.on('models.changed', () => {
      void refreshModels();
      useReviewStore.getState().setQuery({});
      // The top bar's model count.
      api['project.state']()
        .then((project) => useAppStore.setState({ project }))
        .catch(() => undefined);
    });
    return off;
  }, [refreshModels]);

  useEffect(() => {
    if (open) void refreshModels();
  }, [open, refreshModels]);

  // The candidate to compare: the chosen version, else the newest finished one that is not active.
  const candidate = useMemo(() => {
    if (compareWith) return compareWith;
    const finished = models.filter((m) => m.state === 'complete' && !m.active);
    return finished.length > 0 ? finished[finished.length - 1].version : null;
  }, [compareWith, models]);

  // The version the what-changed and disagreement queues look at: the one picked to compare, else
  // the newest finished one (a fresh run beside the active version, or the active one itself).
  const queueVersion = useMemo(() => {
    if (compareWith) return compareWith;
    const finished = models.filter((m) => m.state === 'complete');
    return finished.length > 0 ? finished[finished.length - 1].version : null;
  }, [compareWith, models]);

  useEffect(() => {
    if (!open || !active || !candidate || candidate === active.version) {
      setComparison(null);
      return;
    }
    let stale = false;
    api['models.compare']({ a: active.version, b: candidate })
      .then((result) => !stale && setComparison(result))
      .catch((e: unknown) => !stale && setError(message(e)));
    return () => {
      stale = true;
    };
  }, [open, active, candidate]);

  const run = (action: () => Promise<unknown>) => {
    setError(null);
    action()
      .then(() => refreshModels())
      .catch((e: unknown) => setError(message(e)));
  };

  if (!open) return null;

  return (
    <aside className="training-panel" data-testid="training-panel" aria-label="Training">
      <header>
        <h3>Training</h3>
        <span className="muted" data-testid="training-worker-backend">
          ML backend: {worker?.backend ?? worker?.state ?? '…'}
        </span>
        <button type="button" aria-label="Close training panel" onClick={onClose}>
          ×
        </button>
      </header>
      {error && (
        <div role="alert" className="error" data-testid="training-error">
          {error}
        </div>
      )}

      <NewRunForm
        open={open}
        active={active}
        models={models}
        trainJob={trainJob}
        readOnly={readOnly}
        run={run}
        onError={setError}
      />

      {trainJob && (
        <section>
          <h4>Run</h4>
          <TrainingStatus job={trainJob} />
        </section>
      )}

      <VersionsSection
        models={models}
        active={active}
        comparison={comparison}
        readOnly={readOnly}
        run={run}
        onCompare={setCompareWith}
      />
      <PredictionsSection
        active={active}
        predictJob={predictJob}
        queueVersion={queueVersion}
        readOnly={readOnly}
        run={run}
        onError={setError}
      />
    </aside>
  );
}
