/**
 * "Export masks": choose an output folder, which mask (best, corrected, predicted, ground truth),
 * a format and review states. "Export…" plans: the absolute target folder, what will be written
 * and which files are in the way appear first, and only "Write" in that step starts the job (with
 * progress and Cancel). Changing any choice withdraws the plan, so what was confirmed is what runs.
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
import { api } from '../api';
import { FolderField } from '../common/FolderField';
import { useFollowedJob } from '../jobs/use-followed-job';
import { JobRow } from '../jobs/JobsBar';
import { ExportPlanView } from './ExportPlanView';
import { ExportResultView } from './ExportResultView';
import { FORMAT_LABELS, FORMAT_WRITES, MANIFEST_NOTE, SOURCE_LABELS } from './export-text';
import { useReadOnlyMessage } from '../store';
import { SendToPacs } from './SendToPacs';

/** Team review's label sources (see shared/label-source-schemas.ts). */
const TEAM_SOURCES: [string, string][] = [
  ['', 'as chosen under Masks'],
  ['final', 'final (after adjudication)'],
  ['consensus', 'consensus (STAPLE, else vote)'],
  ['consensus:staple', 'consensus: STAPLE'],
  ['consensus:vote', 'consensus: majority vote'],
  ['reader', "one reader's labels"],
];

const STATES: ReviewState[] = ['unreviewed', 'accepted', 'corrected', 'flagged', 'negative'];

export function ExportDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const [out, setOut] = useState('');
  const [source, setSource] = useState<ExportSource>('best');
  const [format, setFormat] = useState<ExportFormat>('png');
  // Team review's label source ('' = the mask chosen under "Masks"); reader needs a name.
  const [team, setTeam] = useState('');
  const [readerName, setReaderName] = useState('');
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
  // The plan on screen and the request it was made for: "Write" runs exactly that request.
  const [planned, setPlanned] = useState<{ plan: ExportPlan; request: ExportInput } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { job, follow, forget } = useFollowedJob();
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
    ...(team ? { labelSource: team === 'reader' ? `reader:${readerName.trim()}` : team } : {}),
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

  const review = async () => {
    setError(null);
    setPlanned(null);
    forget();
    try {
      const request = input();
      const plan = await api['export.plan'](request);
      setPlanned({ plan, request });
      if (plan.conflictCount > 0 && !request.overwrite) {
        setError(
          `${plan.conflictCount} ${plan.conflictCount === 1 ? 'file already exists' : 'files already exist'} in ${plan.out}: tick "Replace files that already exist" or choose another folder.`,
        );
      }
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    }
  };

  const write = async () => {
    if (!planned) return;
    setError(null);
    forget();
    try {
      const label = segmentLabel;
      if (
        planned.request.format === 'dicom-seg' &&
        label &&
        (label.name !== savedSegmentLabel?.name || label.colour !== savedSegmentLabel?.colour)
      ) {
        setSavedSegmentLabel(await api['export.setSegmentLabel'](label));
      }
      follow(await api['export.start'](planned.request));
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    }
  };

  const running = job?.state === 'running';

  const result = job?.state === 'succeeded' ? (job.result as ExportResult | undefined) : undefined;
  const changed = () => setPlanned(null);
  const planShown = planned !== null && !job;

  return (
    <JobDialog
      open={open}
      onClose={onClose}
      busy={running}
      testId="export-dialog"
      onSubmit={() => {
        if (!out.trim()) return;
        if (planShown && planned.plan.masks > 0 && !error) void write();
        else void review();
      }}
    >
      <h2>Export masks</h2>
      <p className="muted" data-testid="export-description">
        Writes {FORMAT_WRITES[format]} {MANIFEST_NOTE}
      </p>
      <FolderField
        label="Output folder"
        value={out}
        onChange={(path) => {
          setOut(path);
          changed();
        }}
        onError={setError}
        placeholder="/data/exports/qata-masks"
        testId="export-out"
        autoFocus
      />
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
      {/* Team projects: whose labels stand for "label" (the decided, the consensus, one reader's). */}
      <span className="row">
        <label>
          Labels
          <select
            data-testid="export-label-source"
            value={team}
            onChange={(event) => {
              setTeam(event.target.value);
              changed();
            }}
          >
            {TEAM_SOURCES.map(([value, text]) => (
              <option key={value} value={value}>
                {text}
              </option>
            ))}
          </select>
        </label>
        {team === 'reader' && (
          <label>
            Reader
            <input
              data-testid="export-reader"
              value={readerName}
              onChange={(event) => {
                setReaderName(event.target.value);
                changed();
              }}
            />
          </label>
        )}
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
              onChange={(event) => {
                setThreshold(event.target.value);
                changed();
              }}
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
            onChange={(event) => {
              setDeidentify(event.target.checked);
              changed();
            }}
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
          onChange={(event) => {
            setOverwrite(event.target.checked);
            changed();
          }}
        />
        Replace files that already exist
      </label>
      {planShown && (
        <ExportPlanView
          plan={planned.plan}
          format={planned.request.format ?? format}
          copyImages={planned.request.copyImages === true}
          overwrite={planned.request.overwrite === true}
          busy={running}
          onConfirm={() => void write()}
        />
      )}
      {error && (
        <p role="alert" className="error" data-testid="export-error">
          {error}
        </p>
      )}
      {job && <JobRow job={job} />}
      {result && <ExportResultView result={result} />}
      <SendToPacs open={open} />
      <div className="actions">
        <button type="button" onClick={onClose} disabled={running}>
          Close
        </button>
        <button
          type="button"
          data-testid="start-export"
          disabled={running || !out.trim()}
          title="Shows the target folder and what will be written; nothing is written yet"
          onClick={() => void review()}
        >
          Export…
        </button>
      </div>
    </JobDialog>
  );
}
