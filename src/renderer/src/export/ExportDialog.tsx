/**
 * "Export masks": choose an output folder, which mask (best, corrected, predicted, ground truth),
 * a format and review states; check what would be written (the absolute target folder, and which
 * files exist), then run the export as a job with progress and Cancel, and show what was written.
 * The target is shown before anything is written (Export plans first); a new check or run clears
 * the previous one's result.
 */
import { useEffect, useState } from 'react';
import { JobDialog } from '../common/JobDialog';
import type { ReviewState } from '../../../shared/contract-review';
import {
  exportFormatSchema,
  exportSourceSchema,
  type ExportFormat,
  type ExportInput,
  type ExportPlan,
  type ExportResult,
  type ExportSource,
  type SegmentLabel,
} from '../../../shared/export-schemas';
import { api, transportName } from '../api';
import { JobRow } from '../jobs/JobsBar';
import { refreshJobs, useAppStore, useReadOnlyMessage } from '../store';

const SOURCE_LABELS: Record<ExportSource, string> = {
  best: 'Best (correction, else ground truth, else prediction)',
  corrected: 'Corrected only',
  predicted: 'Predicted (thresholded)',
  'ground-truth': 'Ground truth',
};

const FORMAT_LABELS: Record<ExportFormat, string> = {
  png: 'PNG 0/255',
  png01: 'PNG 0/1',
  probability: 'Probability map (8-bit)',
  overlay: 'Overlay (image + contour)',
  coco: 'COCO JSON (RLE)',
  nnunet: 'nnU-Net v2 raw dataset',
  nifti: 'NIfTI (.nii.gz image and mask)',
  'dicom-seg': 'DICOM SEG (one per image)',
};

const STATES: ReviewState[] = ['unreviewed', 'accepted', 'corrected', 'flagged', 'negative'];

export function ExportDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const [out, setOut] = useState('');
  const [source, setSource] = useState<ExportSource>('best');
  const [format, setFormat] = useState<ExportFormat>('png');
  const [states, setStates] = useState<Set<ReviewState>>(new Set());
  const [model, setModel] = useState('');
  const [threshold, setThreshold] = useState('0.5');
  const [copyImages, setCopyImages] = useState(false);
  const [overwrite, setOverwrite] = useState(false);
  const [datasetId, setDatasetId] = useState('501');
  const [datasetName, setDatasetName] = useState('QaTa');
  const [deidentify, setDeidentify] = useState(false);
  // The SEG's segment label and colour: the project's settings, saved when an export starts.
  const [segmentLabel, setSegmentLabel] = useState<SegmentLabel | null>(null);
  const [savedSegmentLabel, setSavedSegmentLabel] = useState<SegmentLabel | null>(null);
  const readOnly = useReadOnlyMessage();
  const [plan, setPlan] = useState<ExportPlan | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [nativePicker, setNativePicker] = useState(transportName === 'electron');
  const job = useAppStore((state) => (jobId ? state.jobs[jobId] : undefined));
  useEffect(() => {
    if (open) setError(null);
  }, [open]);
  useEffect(() => {
    if (!open || format !== 'dicom-seg') return;
    let stale = false;
    api['export.segmentLabel']().then(
      (label) => {
        if (stale) return;
        setSegmentLabel(label);
        setSavedSegmentLabel(label);
      },
      (caught: unknown) =>
        !stale && setError(caught instanceof Error ? caught.message : String(caught)),
    );
    return () => {
      stale = true;
    };
  }, [open, format]);

  const input = (): ExportInput => ({
    out: out.trim(),
    source,
    format,
    states: states.size > 0 ? [...states] : undefined,
    model: model.trim() || undefined,
    threshold: Number(threshold),
    copyImages,
    overwrite,
    ...(format === 'nnunet'
      ? { datasetId: Number(datasetId), datasetName: datasetName.trim() }
      : {}),
    deidentify: format === 'dicom-seg' && deidentify,
  });

  const browse = async () => {
    setError(null);
    let picked;
    try {
      picked = await api['system.pickFolder']();
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
      return;
    }
    if (picked.path) setOut(picked.path);
    if (!picked.native) setNativePicker(false);
  };

  const check = async () => {
    setError(null);
    setPlan(null);
    setJobId(null);
    try {
      setPlan(await api['export.plan'](input()));
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    }
  };

  const start = async () => {
    setError(null);
    setPlan(null);
    setJobId(null);
    try {
      const request = input();
      const label = segmentLabel;
      if (
        format === 'dicom-seg' &&
        label &&
        (label.name !== savedSegmentLabel?.name || label.colour !== savedSegmentLabel?.colour)
      ) {
        setSavedSegmentLabel(await api['export.setSegmentLabel'](label));
      }
      // Plan first: the absolute target is on screen before anything is written.
      setPlan(await api['export.plan'](request));
      const started = await api['export.start'](request);
      useAppStore.setState((state) => ({ jobs: { ...state.jobs, [started.id]: started } }));
      setJobId(started.id);
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    }
  };

  const running = job?.state === 'running';

  // Progress comes as job.updated events; if the event socket was (re)connecting when the export
  // ended, the last update is lost. Polling the job list while it runs keeps the dialog honest.
  useEffect(() => {
    if (!jobId || !running) return;
    const timer = setInterval(refreshJobs, 1000);
    return () => clearInterval(timer);
  }, [jobId, running]);

  const result = job?.state === 'succeeded' ? (job.result as ExportResult | undefined) : undefined;
  const changed = () => setPlan(null);

  return (
    <JobDialog
      open={open}
      onClose={onClose}
      busy={running}
      testId="export-dialog"
      onSubmit={() => {
        if (out.trim()) void start();
      }}
    >
      <h2>Export masks</h2>
      <p className="muted">
        Writes <code>&lt;folder&gt;/Ground-truths/mask_&lt;stem&gt;.png</code> for each image (the
        QaTa layout) and <code>manifest.csv</code> with a SHA-256 per file. Existing files are never
        replaced unless you allow it.
      </p>
      <label>
        Output folder
        <span className="row">
          <input
            data-testid="export-out"
            value={out}
            onChange={(event) => {
              setOut(event.target.value);
              changed();
            }}
            placeholder="/data/exports/qata-masks"
            autoFocus
            spellCheck={false}
          />
          {nativePicker && (
            <button type="button" onClick={() => void browse()}>
              Browse…
            </button>
          )}
        </span>
      </label>
      <span className="row">
        <label>
          Masks
          <select
            data-testid="export-source"
            value={source}
            onChange={(event) => {
              setSource(exportSourceSchema.parse(event.target.value));
              changed();
            }}
          >
            {exportSourceSchema.options.map((option) => (
              <option key={option} value={option}>
                {SOURCE_LABELS[option]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Format
          <select
            data-testid="export-format"
            value={format}
            onChange={(event) => {
              setFormat(exportFormatSchema.parse(event.target.value));
              changed();
            }}
          >
            {exportFormatSchema.options.map((option) => (
              <option key={option} value={option}>
                {FORMAT_LABELS[option]}
              </option>
            ))}
          </select>
        </label>
      </span>
      <fieldset className="row" data-testid="export-states">
        <legend>Review states (none checked: all)</legend>
        {STATES.map((state) => (
          <label key={state} className="checkbox">
            <input
              type="checkbox"
              checked={states.has(state)}
              onChange={(event) => {
                const next = new Set(states);
                if (event.target.checked) next.add(state);
                else next.delete(state);
                setStates(next);
                changed();
              }}
            />
            {state}
          </label>
        ))}
      </fieldset>
      {format === 'nnunet' && (
        <span className="row">
          <label>
            Dataset id (1-999)
            <input
              type="number"
              min={1}
              max={999}
              data-testid="export-dataset-id"
              value={datasetId}
              onChange={(event) => {
                setDatasetId(event.target.value);
                changed();
              }}
            />
          </label>
          <label>
            Dataset name
            <input
              data-testid="export-dataset-name"
              value={datasetName}
              onChange={(event) => {
                setDatasetName(event.target.value);
                changed();
              }}
              spellCheck={false}
            />
          </label>
        </span>
      )}
      {(source === 'predicted' || source === 'best') && (
        <span className="row">
          <label>
            Model version
            <input
              value={model}
              onChange={(event) => {
                setModel(event.target.value);
                changed();
              }}
              placeholder="active model"
              spellCheck={false}
            />
          </label>
          <label>
            Threshold
            <input
              type="number"
              min={0.01}
              max={1}
              step="any"
              value={threshold}
              onChange={(event) => setThreshold(event.target.value)}
            />
          </label>
        </span>
      )}
      <label className="checkbox">
        <input
          type="checkbox"
          checked={copyImages}
          onChange={(event) => {
            setCopyImages(event.target.checked);
            changed();
          }}
        />
        Also copy the images (a complete dataset to re-import)
      </label>
      {format === 'dicom-seg' && (
        <label className="checkbox">
          <input
            type="checkbox"
            data-testid="export-deidentify"
            checked={deidentify}
            onChange={(event) => setDeidentify(event.target.checked)}
          />
          De-identify (remove patient data, new UIDs: PS3.15 Annex E basic profile)
        </label>
      )}
      {format === 'dicom-seg' && segmentLabel && (
        <label>
          Segment{' '}
          <input
            type="text"
            data-testid="export-segment-name"
            maxLength={64}
            value={segmentLabel.name}
            disabled={readOnly !== null}
            title={readOnly ?? 'The segment label DICOM viewers show (kept for later exports)'}
            onChange={(event) => setSegmentLabel({ ...segmentLabel, name: event.target.value })}
          />{' '}
          <input
            type="color"
            data-testid="export-segment-colour"
            aria-label="Segment colour"
            value={segmentLabel.colour}
            disabled={readOnly !== null}
            title={readOnly ?? 'The colour DICOM viewers draw the segment in'}
            onChange={(event) => setSegmentLabel({ ...segmentLabel, colour: event.target.value })}
          />
        </label>
      )}
      <label className="checkbox">
        <input
          type="checkbox"
          data-testid="export-overwrite"
          checked={overwrite}
          onChange={(event) => setOverwrite(event.target.checked)}
        />
        Replace files that already exist
      </label>
      {plan && (
        <p data-testid="export-plan">
          Target <code data-testid="export-target">{plan.out}</code>: {plan.masks}{' '}
          {plan.masks === 1 ? 'mask' : 'masks'} to write
          {plan.skipped.length > 0 && `, ${plan.skipped.length} images without such a mask`}
          {plan.conflictCount > 0 &&
            `; ${plan.conflictCount} files already exist (${plan.conflicts.slice(0, 3).join(', ')}${plan.conflictCount > 3 ? ', …' : ''})`}
          .
        </p>
      )}
      {error && (
        <p role="alert" className="error" data-testid="export-error">
          {error}
        </p>
      )}
      {job && <JobRow job={job} />}
      {result && <ExportResultView result={result} />}
      <div className="actions">
        <button type="button" onClick={onClose} disabled={running}>
          Close
        </button>
        <button
          type="button"
          data-testid="export-check"
          disabled={running || !out.trim()}
          onClick={() => void check()}
        >
          Check
        </button>
        <button type="submit" data-testid="start-export" disabled={running || !out.trim()}>
          Export
        </button>
      </div>
    </JobDialog>
  );
}

function ExportResultView({ result }: { result: ExportResult }) {
  return (
    <div className="import-report" data-testid="export-result">
      <p>
        <strong data-testid="export-count">{result.masks}</strong>{' '}
        {result.masks === 1 ? 'mask' : 'masks'} written to <code>{result.out}</code> in{' '}
        {result.seconds.toFixed(1)} s ({Math.round(result.masksPerSecond)} masks/s).
      </p>
      <p className="muted">
        Manifest: <code data-testid="export-manifest">{result.manifest}</code>
      </p>
      {result.skipped.length > 0 && (
        <details>
          <summary>
            {result.skipped.length} {result.skipped.length === 1 ? 'image' : 'images'} skipped
          </summary>
          <ul>
            {result.skipped.slice(0, 200).map((item) => (
              <li key={item.image}>
                <code>{item.image}</code>: {item.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}
