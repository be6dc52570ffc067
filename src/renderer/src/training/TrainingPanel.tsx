/**
 * The Training panel: configure and run a training job (from scratch or fine-tuned from the
 * active version), watch its curves, compare the finished version with the active one on the
 * locked test split, promote or roll back, predict every image with the active model, and turn the
 * worklist into an active-learning queue. Training runs in the ML worker; this panel only renders
 * the job updates the host relays, so the viewer and editing stay responsive.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Job } from '../../../shared/contract';
import type {
  LabelSourceName,
  ModelComparison,
  ModelSummary,
  TrainParamsInput,
} from '../../../shared/contract-ml';
import { api } from '../api';
import { useReviewStore } from '../review/review-store';
import { useAppStore, useReadOnlyMessage } from '../store';
import { Curves } from './Curves';
import { AddModelForm } from './AddModelForm';
import { ExportOnnxForm } from './ExportOnnxForm';
import { ImportPredictionsForm } from './ImportPredictionsForm';
import { VersionCardView } from './VersionCardView';
import {
  appendStep,
  bestRecord,
  formatBytes,
  formatDuration,
  promotionShortfall,
  queueFilter,
  stepPoint,
  trainingView,
  type QueueSort,
  type StepPoint,
} from './training-model';
import './training.css';

const LABELS: { value: LabelSourceName; label: string }[] = [
  { value: 'ground-truth', label: 'Ground truth' },
  { value: 'accepted', label: 'Accepted' },
  { value: 'corrected', label: 'Corrected' },
];

type Promote = NonNullable<TrainParamsInput['promote']>;
type InputMode = NonNullable<TrainParamsInput['inputMode']>;

interface Settings {
  mode: 'scratch' | 'fine-tune';
  epochs: number;
  size: number;
  base: number;
  batch: number;
  labels: LabelSourceName[];
  promote: Promote;
  inputMode: InputMode;
}

interface Estimate {
  bytes: number;
  limit: number | null;
  fits: boolean;
  backend: string;
  message: string | null;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function newest(jobs: Record<string, Job>, kind: Job['kind']): Job | null {
  let found: Job | null = null;
  for (const job of Object.values(jobs)) {
    if (job.kind === kind && (!found || job.startedAt > found.startedAt)) found = job;
  }
  return found;
}

/** Where a version came from, for the table: its parent, or the file or folder it was added from. */
function versionOrigin(model: ModelSummary): string {
  const name = (model.origin ?? '').split(/[\\/]/).filter(Boolean).pop() ?? '';
  if (model.source === 'onnx') return `ONNX ${name}`;
  if (model.source === 'predictions') return `predictions ${name}`;
  return model.parent ?? 'scratch';
}

function figure(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined ? '–' : value.toFixed(digits);
}

/** Number input bound to one setting. */
function NumberField(props: {
  label: string;
  value: number;
  min: number;
  max: number;
  step?: number;
  disabled?: boolean;
  testId: string;
  onChange: (value: number) => void;
}) {
  return (
    <label>
      {props.label}
      <input
        type="number"
        value={props.value}
        min={props.min}
        max={props.max}
        step={props.step ?? 1}
        disabled={props.disabled}
        data-testid={props.testId}
        onChange={(event) => {
          const value = Number(event.target.value);
          if (Number.isFinite(value)) props.onChange(value);
        }}
      />
    </label>
  );
}

function TrainingStatus({ job }: { job: Job }) {
  const view = trainingView(job);
  const stepsRef = useRef<{ jobId: string; points: StepPoint[] }>({ jobId: job.id, points: [] });
  if (stepsRef.current.jobId !== job.id) stepsRef.current = { jobId: job.id, points: [] };
  stepsRef.current.points = appendStep(stepsRef.current.points, stepPoint(view));
  const steps = stepsRef.current.points;
  const last = view.history[view.history.length - 1];
  const best = bestRecord(view);
  return (
    <div className="training-status" data-testid="training-status" data-state={job.state}>
      <div className="training-figures">
        <span>
          <b>{view.version ?? '…'}</b> {job.state === 'running' ? job.phase : job.state}
        </span>
        <span data-testid="training-backend">backend: {view.backend ?? '…'}</span>
        <span data-testid="training-speed">
          {view.imagesPerSecond === null ? '–' : `${view.imagesPerSecond.toFixed(1)} img/s`}
        </span>
        {job.state === 'running' && (
          <span data-testid="training-eta">ETA {formatDuration(view.etaSeconds)}</span>
        )}
      </div>
      <Curves history={view.history} steps={steps} epochs={view.epochs} />
      <div className="training-figures muted">
        <span className="legend-loss">● loss {figure(last?.loss ?? view.loss, 4)}</span>
        <span className="legend-dice">■ val Dice {figure(last?.valDice)}</span>
        {best && (
          <span
            data-testid="run-best-val-dice"
            title="The version keeps the epoch with the best validation Dice (measured at each image's resolution): the figure of the versions table"
          >
            version: {figure(best.valDice)} (epoch {best.epoch})
          </span>
        )}
        {job.state === 'failed' && <span className="job-error">{job.error}</span>}
        {job.state === 'succeeded' && view.promoted !== null && (
          <span data-testid="training-promoted">
            {view.promoted ? 'promoted to active' : 'not promoted'}
          </span>
        )}
      </div>
    </div>
  );
}

function ComparisonView({
  comparison,
  onPromote,
}: {
  comparison: ModelComparison;
  onPromote: (version: string, confirmWorse: boolean) => void;
}) {
  const { a, b, splits } = comparison;
  const [confirming, setConfirming] = useState(false);
  const readOnly = useReadOnlyMessage();
  const shortfall = promotionShortfall(comparison);
  const rows = [...comparison.perImage].sort((x, y) => y.delta - x.delta);
  const shown = [...rows.slice(0, 3), ...rows.slice(Math.max(3, rows.length - 3))];
  return (
    <div className="comparison" data-testid="comparison">
      <h4>
        {b} vs active {a} on the locked test split
      </h4>
      {!comparison.sameTestSplit && (
        <p className="job-error">
          Tested on different test splits: the figures are not comparable.
        </p>
      )}
      <table>
        <thead>
          <tr>
            <th />
            <th>{a}</th>
            <th>{b}</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <td>Test Dice</td>
            <td>{figure(splits.test.a?.dice)}</td>
            <td data-testid="comparison-dice-b">{figure(splits.test.b?.dice)}</td>
          </tr>
          <tr>
            <td>Test IoU</td>
            <td>{figure(splits.test.a?.iou)}</td>
            <td>{figure(splits.test.b?.iou)}</td>
          </tr>
          <tr>
            <td>Val Dice</td>
            <td>{figure(splits.val.a?.dice)}</td>
            <td>{figure(splits.val.b?.dice)}</td>
          </tr>
        </tbody>
      </table>
      <p data-testid="comparison-wins">
        Per test image: {b} wins <b>{comparison.wins}</b>, loses <b>{comparison.losses}</b>, ties{' '}
        {comparison.ties}
      </p>
      {shown.length > 0 && (
        <ul className="comparison-images muted">
          {shown.map((row) => (
            <li key={row.imageId}>
              {row.image}: {row.a.toFixed(3)} → {row.b.toFixed(3)} ({row.delta >= 0 ? '+' : ''}
              {row.delta.toFixed(3)})
            </li>
          ))}
        </ul>
      )}
      {confirming && shortfall ? (
        <div className="promote-confirm" role="alertdialog" data-testid="promote-confirm">
          <p>
            {b} is worse than the active {a} on the locked test split by{' '}
            <b data-testid="promote-shortfall">{shortfall.by.toFixed(4)}</b> Dice (
            {shortfall.dice.toFixed(4)} against {shortfall.activeDice.toFixed(4)}). Promote it
            anyway?
          </p>
          <button
            type="button"
            data-testid="promote-anyway"
            onClick={() => {
              setConfirming(false);
              onPromote(b, true);
            }}
          >
            Promote {b} anyway
          </button>
          <button type="button" data-testid="promote-cancel" onClick={() => setConfirming(false)}>
            Keep {a}
          </button>
        </div>
      ) : (
        <button
          type="button"
          data-testid={`promote-${b}`}
          disabled={readOnly !== null}
          title={readOnly ?? undefined}
          onClick={() => (shortfall ? setConfirming(true) : onPromote(b, false))}
        >
          Promote {b}
        </button>
      )}
    </div>
  );
}

export function TrainingPanel({ open, onClose }: { open: boolean; onClose: () => void }) {
  // Only the newest training and prediction jobs: other jobs' updates do not re-render the panel.
  const trainJob = useAppStore((state) => newest(state.jobs, 'train'));
  const predictJob = useAppStore((state) => newest(state.jobs, 'predict'));
  const worker = useAppStore((state) => state.worker);
  // Set while the project is read-only: what every button that would write says on hover.
  const readOnly = useReadOnlyMessage();
  const [models, setModels] = useState<ModelSummary[]>([]);
  const [settings, setSettings] = useState<Settings>({
    mode: 'scratch',
    epochs: 10,
    size: 256,
    base: 16,
    batch: 4,
    labels: ['ground-truth', 'accepted', 'corrected'],
    promote: 'if-better',
    inputMode: 'resize',
  });
  const [estimate, setEstimate] = useState<Estimate | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [compareWith, setCompareWith] = useState<string | null>(null);
  const [comparison, setComparison] = useState<ModelComparison | null>(null);
  const [exporting, setExporting] = useState<string | null>(null);
  const [opened, setOpened] = useState<string | null>(null);
  const [interopForm, setInteropForm] = useState<'add-model' | 'import-predictions' | null>(null);
  const [queueNote, setQueueNote] = useState<string | null>(null);
  const [pendingQueue, setPendingQueue] = useState<{
    sort: 'changed' | 'disagreement';
    version: string;
    jobId: string;
  } | null>(null);
  const pendingJob = useAppStore((state) =>
    pendingQueue ? (state.jobs[pendingQueue.jobId] ?? null) : null,
  );

  const active = models.find((model) => model.active) ?? null;
  const rollbackTo = models.find((model) => model.rollbackTarget) ?? null;
  const activeIsExternal = Boolean(active?.source && active.source !== 'trained');
  const training = trainJob?.state === 'running';
  const predicting = predictJob?.state === 'running';

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

  // The memory estimate, whenever the shape of the run changes.
  useEffect(() => {
    if (!open) return;
    let stale = false;
    const timer = setTimeout(() => {
      api['train.estimate']({ size: settings.size, base: settings.base, batch: settings.batch })
        .then((result) => !stale && setEstimate(result))
        .catch((e: unknown) => !stale && setError(message(e)));
    }, 150);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [open, settings.size, settings.base, settings.batch]);

  // Fine-tuning keeps the active version's architecture.
  useEffect(() => {
    if (settings.mode === 'fine-tune' && active?.size && active.base) {
      if (settings.size !== active.size || settings.base !== active.base) {
        setSettings((s) => ({ ...s, size: active.size ?? s.size, base: active.base ?? s.base }));
      }
    }
  }, [settings.mode, settings.size, settings.base, active]);

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

  // The comparison a queue waited for has finished: open the queue, or say why it cannot.
  useEffect(() => {
    if (!pendingQueue || !pendingJob || pendingJob.state === 'running') return;
    setPendingQueue(null);
    if (pendingJob.state === 'succeeded') {
      const { images } = (pendingJob.result ?? {}) as { images?: number };
      if (images) queue(pendingQueue.sort, pendingQueue.version);
      else setQueueNote(`No image has predictions of both versions to compare.`);
    } else setQueueNote(`Comparison ${pendingJob.state}: ${pendingJob.error ?? ''}`);
  }, [pendingQueue, pendingJob]);

  const run = (action: () => Promise<unknown>) => {
    setError(null);
    action()
      .then(() => refreshModels())
      .catch((e: unknown) => setError(message(e)));
  };

  const start = () =>
    run(() =>
      api['train.start']({
        epochs: settings.epochs,
        size: settings.size,
        base: settings.base,
        batch: settings.batch,
        labels: settings.labels,
        from: settings.mode === 'fine-tune' ? 'active' : null,
        promote: settings.promote,
        inputMode: settings.inputMode,
      }),
    );

  const queue = (sort: QueueSort, changesOf?: string) => {
    const current = useReviewStore.getState().query.filter;
    setQueueNote(null);
    useReviewStore.getState().setQuery({
      sort,
      direction: 'desc',
      filter: queueFilter(current, sort),
      ...(changesOf ? { changesOf } : {}),
    });
    // Open the head of the queue (loaded lazily: the review actions pull in the Konva viewer).
    import('../review/actions')
      .then(({ selectIndex }) => selectIndex(0))
      .catch((e: unknown) => setError(message(e)));
  };

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
      useAppStore.setState((state) => ({ jobs: { ...state.jobs, [job.id]: job } }));
      setPendingQueue({ sort, version, jobId: job.id });
      setQueueNote(`Predicting where needed and comparing ${version}…`);
    } catch (e) {
      setQueueNote(message(e));
    }
  };

  if (!open) return null;
  const incomplete = models.filter((m) => m.state === 'incomplete');
  const refused = estimate !== null && !estimate.fits;

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

      <section>
        <h4>New run</h4>
        <div className="training-mode">
          <label>
            <input
              type="radio"
              name="mode"
              checked={settings.mode === 'scratch'}
              data-testid="mode-scratch"
              onChange={() => setSettings((s) => ({ ...s, mode: 'scratch' }))}
            />
            From scratch
          </label>
          <label
            title={
              !active
                ? 'No active version yet'
                : activeIsExternal
                  ? 'The active version was not trained here: only U-Nets trained here can be fine-tuned'
                  : ''
            }
          >
            <input
              type="radio"
              name="mode"
              checked={settings.mode === 'fine-tune'}
              disabled={!active || activeIsExternal}
              data-testid="mode-fine-tune"
              onChange={() => setSettings((s) => ({ ...s, mode: 'fine-tune' }))}
            />
            Fine-tune {active ? active.version : ''}
          </label>
        </div>
        <div className="training-grid">
          <NumberField
            label="Epochs"
            value={settings.epochs}
            min={1}
            max={10_000}
            testId="train-epochs"
            onChange={(epochs) => setSettings((s) => ({ ...s, epochs }))}
          />
          <NumberField
            label="Input size"
            value={settings.size}
            min={16}
            max={1024}
            step={16}
            disabled={settings.mode === 'fine-tune'}
            testId="train-size"
            onChange={(size) => setSettings((s) => ({ ...s, size }))}
          />
          <NumberField
            label="Base filters"
            value={settings.base}
            min={4}
            max={64}
            disabled={settings.mode === 'fine-tune'}
            testId="train-base"
            onChange={(base) => setSettings((s) => ({ ...s, base }))}
          />
          <NumberField
            label="Batch"
            value={settings.batch}
            min={1}
            max={64}
            testId="train-batch"
            onChange={(batch) => setSettings((s) => ({ ...s, batch }))}
          />
        </div>
        <label>
          Input{' '}
          <select
            value={settings.inputMode}
            data-testid="train-input-mode"
            onChange={(event) =>
              setSettings((s) => ({ ...s, inputMode: event.target.value as InputMode }))
            }
          >
            <option value="resize">whole image resized to the input size</option>
            <option value="tile">crops at full resolution, overlap-tile prediction</option>
          </select>
        </label>
        <fieldset className="training-labels">
          <legend>Labels</legend>
          {LABELS.map((option) => (
            <label key={option.value}>
              <input
                type="checkbox"
                checked={settings.labels.includes(option.value)}
                data-testid={`label-${option.value}`}
                onChange={(event) =>
                  setSettings((s) => ({
                    ...s,
                    labels: event.target.checked
                      ? [...s.labels, option.value]
                      : s.labels.filter((l) => l !== option.value),
                  }))
                }
              />
              {option.label}
            </label>
          ))}
        </fieldset>
        <label>
          When finished{' '}
          <select
            value={settings.promote}
            data-testid="train-promote"
            onChange={(event) =>
              setSettings((s) => ({ ...s, promote: event.target.value as Promote }))
            }
          >
            <option value="if-better">promote only if better on the test split</option>
            <option value="always">always promote</option>
            <option value="never">keep beside the active version</option>
          </select>
        </label>
        <p
          className={refused ? 'job-error' : 'muted'}
          role={refused ? 'alert' : undefined}
          data-testid="train-estimate"
        >
          {estimate === null
            ? 'Estimating memory…'
            : (estimate.message ??
              `Memory ≈ ${formatBytes(estimate.bytes)}${
                estimate.limit ? ` of ${formatBytes(estimate.limit)}` : ''
              } on ${estimate.backend}`)}
        </p>
        <div className="actions">
          <button
            type="button"
            data-testid="train-start"
            disabled={training || refused || settings.labels.length === 0 || readOnly !== null}
            title={readOnly ?? undefined}
            onClick={start}
          >
            Start training
          </button>
          <button
            type="button"
            data-testid="train-stop"
            disabled={!training}
            onClick={() => trainJob && run(() => api['jobs.cancel']({ id: trainJob.id }))}
          >
            Stop
          </button>
          {incomplete.map((model) => (
            <button
              key={model.version}
              type="button"
              data-testid={`train-resume-${model.version}`}
              disabled={training || readOnly !== null}
              title={readOnly ?? undefined}
              onClick={() => run(() => api['train.resume']({ version: model.version }))}
            >
              Resume {model.version} ({model.epochsDone}/{model.epochs ?? '?'} epochs)
            </button>
          ))}
        </div>
      </section>

      {trainJob && (
        <section>
          <h4>Run</h4>
          <TrainingStatus job={trainJob} />
        </section>
      )}

      <section>
        <h4>Model versions</h4>
        <table className="versions" data-testid="versions">
          <thead>
            <tr>
              <th>Version</th>
              <th>From</th>
              <th>Size/base</th>
              <th>Val Dice</th>
              <th>Test Dice</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {models.map((model) => (
              <tr
                key={model.version}
                data-testid="version-row"
                data-version={model.version}
                data-active={model.active}
                className={model.active ? 'active' : undefined}
              >
                <td>
                  <button
                    type="button"
                    className="link"
                    data-testid={`version-open-${model.version}`}
                    title={`Open the version's card${model.backend ? ` (trained on ${model.backend})` : ''}`}
                    disabled={model.state !== 'complete'}
                    onClick={() => setOpened(model.version)}
                  >
                    {model.version}
                  </button>
                  {model.active && <span className="badge">active</span>}
                  {model.state === 'incomplete' && <span className="badge muted">incomplete</span>}
                  {model.state === 'damaged' && (
                    <span className="badge warn" title={model.damage} data-testid="damaged-badge">
                      damaged
                    </span>
                  )}
                </td>
                <td data-testid="version-source">{versionOrigin(model)}</td>
                <td>
                  {model.source === 'trained' || !model.source
                    ? `${model.size ?? '?'}/${model.base ?? '?'}`
                    : (model.input ?? '–')}
                </td>
                <td>{figure(model.valDice)}</td>
                <td>{figure(model.testDice)}</td>
                <td>
                  {model.state === 'complete' && !model.active && (
                    <button type="button" onClick={() => setCompareWith(model.version)}>
                      Compare
                    </button>
                  )}
                  {model.state === 'complete' && model.source !== 'predictions' && (
                    <button
                      type="button"
                      data-testid={`export-onnx-${model.version}`}
                      title="Write this version as a standalone ONNX file"
                      onClick={() => setExporting(model.version)}
                    >
                      ONNX
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {models.length === 0 && <p className="muted">No model yet: train one.</p>}
        {opened && (
          <VersionCardView
            key={opened}
            version={opened}
            onClose={() => setOpened(null)}
            onPredict={(version) => run(() => api['predict.start']({ model: version }))}
            onExport={(version) => setExporting(version)}
          />
        )}
        {exporting && (
          <ExportOnnxForm key={exporting} version={exporting} onClose={() => setExporting(null)} />
        )}
        {comparison && (
          <ComparisonView
            comparison={comparison}
            onPromote={(version, confirmWorse) =>
              run(() => api['models.promote']({ version, confirmWorse }))
            }
          />
        )}
        <div className="actions">
          <button
            type="button"
            data-testid="add-model-open"
            disabled={readOnly !== null}
            title={readOnly ?? undefined}
            onClick={() => setInteropForm('add-model')}
          >
            Add ONNX model…
          </button>
          <button
            type="button"
            data-testid="import-predictions-open"
            disabled={readOnly !== null}
            title={readOnly ?? undefined}
            onClick={() => setInteropForm('import-predictions')}
          >
            Import predictions…
          </button>
        </div>
        {interopForm === 'add-model' && <AddModelForm onClose={() => setInteropForm(null)} />}
        {interopForm === 'import-predictions' && (
          <ImportPredictionsForm onClose={() => setInteropForm(null)} />
        )}
        <div className="actions">
          <button
            type="button"
            data-testid="rollback"
            disabled={!rollbackTo || readOnly !== null}
            title={
              readOnly ??
              (rollbackTo
                ? `Make ${rollbackTo.version} active again (it was active before ${active?.version ?? 'this one'})`
                : 'Nothing to roll back to: no version was active before this one')
            }
            onClick={() => run(() => api['models.rollback']())}
          >
            {rollbackTo ? `Roll back to ${rollbackTo.version}` : 'Roll back'}
          </button>
        </div>
      </section>

      <section>
        <h4>Predictions and active learning</h4>
        <div className="actions">
          <button
            type="button"
            data-testid="predict-all"
            disabled={!active || predicting || readOnly !== null}
            title={readOnly ?? undefined}
            onClick={() => run(() => api['predict.start']({}))}
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
          <p className="muted" data-testid="predict-status" data-state={predictJob.state}>
            {predictJob.state === 'running'
              ? `${predictJob.phase}: ${predictJob.done}/${predictJob.total ?? '?'}`
              : `last prediction ${predictJob.state}`}
          </p>
        )}
        <div className="actions">
          <button
            type="button"
            data-testid="queue-uncertainty"
            onClick={() => queue('uncertainty')}
          >
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
    </aside>
  );
}
