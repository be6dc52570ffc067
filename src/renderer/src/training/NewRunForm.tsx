/**
 * "New run": from scratch or fine-tuned from the active version, the run's shape (epochs, input
 * size, base filters, batch, input mode), which labels it learns from and what happens when it
 * ends; the memory estimate refuses a shape that cannot fit before anything starts.
 */
import { useEffect, useState } from 'react';
import type { Job } from '../../../shared/contract';
import type { LabelSourceName, ModelSummary, TrainParamsInput } from '../../../shared/contract-ml';
import { api } from '../api';
import { formatBytes } from './training-model';
import { message } from './interop-common';

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

export function NewRunForm({
  open,
  active,
  models,
  trainJob,
  readOnly,
  run,
  onError,
}: {
  open: boolean;
  active: ModelSummary | null;
  models: ModelSummary[];
  trainJob: Job | null;
  readOnly: string | null;
  /** Runs a host call, then refreshes the versions; a failure shows in the panel. */
  run: (action: () => Promise<unknown>) => void;
  onError: (message: string) => void;
}) {
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
  const activeIsExternal = Boolean(active?.source && active.source !== 'trained');
  const training = trainJob?.state === 'running';
  const incomplete = models.filter((m) => m.state === 'incomplete');

  // The memory estimate, whenever the shape of the run changes.
  useEffect(() => {
    if (!open) return;
    let stale = false;
    const timer = setTimeout(() => {
      api['train.estimate']({ size: settings.size, base: settings.base, batch: settings.batch })
        .then((result) => !stale && setEstimate(result))
        .catch((e: unknown) => !stale && onError(message(e)));
    }, 150);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [open, settings.size, settings.base, settings.batch, onError]);

  // Fine-tuning keeps the active version's architecture.
  useEffect(() => {
    if (settings.mode === 'fine-tune' && active?.size && active.base) {
      if (settings.size !== active.size || settings.base !== active.base) {
        setSettings((s) => ({ ...s, size: active.size ?? s.size, base: active.base ?? s.base }));
      }
    }
  }, [settings.mode, settings.size, settings.base, active]);

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
  const refused = estimate !== null && !estimate.fits;

  return (
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
  );
}
