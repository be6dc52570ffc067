/**
 * The research interop in the Training panel: a version out as a standalone ONNX file (with
 * model.json beside it), an external ONNX model in (its graph's shapes shown, the config asked
 * for in a form), a folder of predictions in, and a version's card (where it came from).
 */
import { useEffect, useState } from 'react';
import type { Job } from '../../../shared/contract';
import type { ModelCard } from '../../../shared/contract-ml';
import type {
  AddModelResult,
  ExportModelResult,
  ExternalModelConfigInput,
  ImportPredictionsResult,
  OnnxGraphInfo,
} from '../../../shared/interop-schemas';
import { api, transportName } from '../api';
import { JobRow } from '../jobs/JobsBar';
import { useAppStore, useReadOnlyMessage } from '../store';

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Picks a folder with the native dialog where there is one; null when the user types paths. */
async function pickFolder(): Promise<string | null> {
  const picked = await api['system.pickFolder']();
  return picked.path;
}

function joinPath(folder: string, name: string): string {
  const separator = folder.includes('\\') && !folder.includes('/') ? '\\' : '/';
  return folder.endsWith(separator) ? `${folder}${name}` : `${folder}${separator}${name}`;
}

/** "Export ONNX" of one version: the file path (model.json goes beside it), overwrite, result. */
export function ExportOnnxForm({ version, onClose }: { version: string; onClose: () => void }) {
  const [out, setOut] = useState('');
  const [overwrite, setOverwrite] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<ExportModelResult | null>(null);

  const run = async () => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await api['models.exportOnnx']({ version, out: out.trim(), overwrite }));
    } catch (caught) {
      setError(message(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="interop-form" data-testid="export-onnx-form" aria-label={`Export ${version}`}>
      <h4>Export {version} as ONNX</h4>
      <p className="muted">
        float32 NCHW [N, 1, H, W] in, sigmoid probabilities out; model.json beside the file says the
        input size, scaling, threshold and test figures.
      </p>
      <label>
        ONNX file{' '}
        <input
          type="text"
          value={out}
          placeholder="/path/to/model.onnx"
          data-testid="export-onnx-path"
          onChange={(event) => setOut(event.target.value)}
        />
      </label>
      {transportName === 'electron' && (
        <button
          type="button"
          onClick={() =>
            void pickFolder().then((folder) => folder && setOut(joinPath(folder, 'model.onnx')))
          }
        >
          Folder…
        </button>
      )}
      <label>
        <input
          type="checkbox"
          checked={overwrite}
          data-testid="export-onnx-overwrite"
          onChange={(event) => setOverwrite(event.target.checked)}
        />
        Replace existing files
      </label>
      <div className="actions">
        <button
          type="button"
          data-testid="export-onnx-run"
          disabled={busy || out.trim() === ''}
          onClick={() => void run()}
        >
          Export
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      {error && (
        <p role="alert" className="job-error" data-testid="export-onnx-error">
          {error}
        </p>
      )}
      {result && (
        <p data-testid="export-onnx-result">
          Wrote {result.file} ({(result.bytes / 2 ** 20).toFixed(1)} MiB) and {result.description}
        </p>
      )}
    </div>
  );
}

/** Starts a job and keeps it in the store (its updates then arrive as events). */
function useJob() {
  const [jobId, setJobId] = useState<string | null>(null);
  const job = useAppStore((state) => (jobId ? state.jobs[jobId] : undefined));
  const track = (started: Job) => {
    useAppStore.setState((state) => ({ jobs: { ...state.jobs, [started.id]: started } }));
    setJobId(started.id);
  };
  return { job, track, reset: () => setJobId(null) };
}

/** A select whose first option is "choose…": nothing is preselected. */
function Choice(props: {
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

interface ConfigFields {
  inputName: string;
  layout: string;
  channels: string;
  size: string;
  mode: string;
  multiple: string;
  scaling: string;
  mean: string;
  std: string;
  outputName: string;
  activation: string;
  classes: string;
  foreground: string;
  threshold: string;
}

/** The form before any choice: nothing assumed but the usual threshold. */
export const EMPTY_FIELDS: ConfigFields = {
  inputName: '',
  layout: '',
  channels: '',
  size: '',
  mode: '',
  multiple: '1',
  scaling: '',
  mean: '',
  std: '',
  outputName: '',
  activation: '',
  classes: '',
  foreground: '',
  threshold: '0.5',
};

/** "256", "320x256" (width x height) or "dynamic" as the config's size; null when unreadable. */
function parseSize(text: string): number | [number, number] | 'dynamic' | null {
  const value = text.trim().toLowerCase();
  if (value === 'dynamic') return 'dynamic';
  if (/^\d+$/.test(value)) return Number(value);
  const match = /^(\d+)\s*x\s*(\d+)$/.exec(value);
  return match ? [Number(match[2]), Number(match[1])] : null;
}

const numberList = (text: string) =>
  text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map(Number);

/** The config the fields describe, or what is still missing. */
export function configFromFields(
  fields: ConfigFields,
  graph: OnnxGraphInfo,
): { config: ExternalModelConfigInput } | { missing: string } {
  const size = parseSize(fields.size);
  const dynamic = size === 'dynamic';
  const classes = Number(fields.classes);
  const checks: [boolean, string][] = [
    [graph.inputs.length <= 1 || fields.inputName !== '', 'the input to use'],
    [fields.layout !== '', 'the input layout'],
    [fields.channels !== '', 'the channels'],
    [size !== null, 'the input size (256, 320x256 or dynamic)'],
    [dynamic || fields.mode !== '', 'the input mode'],
    [fields.scaling !== '', 'the scaling'],
    [graph.outputs.length <= 1 || fields.outputName !== '', 'the output to use'],
    [fields.activation !== '', 'what the output gives'],
    [Number.isInteger(classes) && classes > 0, 'the output channels'],
    [classes <= 1 || fields.foreground !== '', 'the foreground channel'],
  ];
  const missing = checks.find(([ok]) => !ok);
  if (missing) return { missing: missing[1] };
  const channels = Number(fields.channels) as 1 | 3;
  return {
    config: {
      input: {
        ...(fields.inputName ? { name: fields.inputName } : {}),
        layout: fields.layout as 'NCHW' | 'NHWC',
        channels,
        size: size!,
        mode: dynamic ? 'native' : (fields.mode as 'resize' | 'tile'),
        multiple: dynamic ? Math.max(1, Number(fields.multiple) || 1) : 1,
        scaling: fields.scaling as ExternalModelConfigInput['input']['scaling'],
        ...(fields.scaling === 'mean-std'
          ? { mean: numberList(fields.mean), std: numberList(fields.std) }
          : {}),
      },
      output: {
        ...(fields.outputName ? { name: fields.outputName } : {}),
        activation: fields.activation as 'logits' | 'probabilities',
        classes,
        foreground: classes > 1 ? Number(fields.foreground) : 0,
        threshold: Number(fields.threshold) || 0.5,
      },
    },
  };
}

function dims(value: OnnxGraphInfo['inputs'][number]): string {
  return value.dims ? `[${value.dims.map((d) => d ?? '?').join(', ')}]` : '[unknown rank]';
}

/**
 * "Add ONNX model": the file is read first and its inputs and outputs shown; the user then says
 * how images go in and what comes out (nothing is preselected), and the job copies, checks and
 * tests the model on the locked test split, with progress and Cancel.
 */
export function AddModelForm({ onClose }: { onClose: () => void }) {
  const [file, setFile] = useState('');
  const [name, setName] = useState('');
  const [graph, setGraph] = useState<OnnxGraphInfo | null>(null);
  const [fields, setFields] = useState<ConfigFields>(EMPTY_FIELDS);
  const [error, setError] = useState<string | null>(null);
  const { job, track } = useJob();
  const set = (patch: Partial<ConfigFields>) => setFields((current) => ({ ...current, ...patch }));

  const read = async () => {
    setError(null);
    setGraph(null);
    try {
      setGraph(await api['models.inspectOnnx']({ path: file.trim() }));
      setFields(EMPTY_FIELDS);
    } catch (caught) {
      setError(message(caught));
    }
  };
  const built = graph ? configFromFields(fields, graph) : null;
  const add = async () => {
    if (!built || !('config' in built)) return;
    setError(null);
    try {
      track(
        await api['models.add']({
          path: file.trim(),
          name: name.trim() || undefined,
          config: built.config,
        }),
      );
    } catch (caught) {
      setError(message(caught));
    }
  };
  const running = job?.state === 'running';
  const result = job?.state === 'succeeded' ? (job.result as AddModelResult) : null;
  const dynamic = parseSize(fields.size) === 'dynamic';

  return (
    <div className="interop-form" data-testid="add-model-form">
      <h4>Add an ONNX model</h4>
      <label>
        ONNX file{' '}
        <input
          type="text"
          value={file}
          placeholder="/path/to/model.onnx"
          data-testid="add-model-path"
          onChange={(event) => setFile(event.target.value)}
        />
      </label>
      <div className="actions">
        <button
          type="button"
          data-testid="add-model-read"
          disabled={file.trim() === ''}
          onClick={() => void read()}
        >
          Read the graph
        </button>
      </div>
      {graph && (
        <>
          <ul className="muted" data-testid="add-model-graph">
            {graph.inputs.map((v) => (
              <li key={`in-${v.name}`}>
                input {v.name}: {v.type} {dims(v)}
              </li>
            ))}
            {graph.outputs.map((v) => (
              <li key={`out-${v.name}`}>
                output {v.name}: {v.type} {dims(v)}
              </li>
            ))}
          </ul>
          <div className="interop-grid">
            {graph.inputs.length > 1 && (
              <Choice
                label="Input"
                value={fields.inputName}
                options={graph.inputs.map((v) => v.name)}
                testId="add-model-input-name"
                onChange={(inputName) => set({ inputName })}
              />
            )}
            <Choice
              label="Layout"
              value={fields.layout}
              options={['NCHW', 'NHWC']}
              testId="add-model-layout"
              onChange={(layout) => set({ layout })}
            />
            <Choice
              label="Channels"
              value={fields.channels}
              options={['1', '3']}
              testId="add-model-channels"
              onChange={(channels) => set({ channels })}
            />
            <label>
              Size{' '}
              <input
                type="text"
                value={fields.size}
                placeholder="256, 320x256 or dynamic"
                data-testid="add-model-size"
                onChange={(event) => set({ size: event.target.value })}
              />
            </label>
            {dynamic ? (
              <label>
                Pad to a multiple of{' '}
                <input
                  type="number"
                  min={1}
                  value={fields.multiple}
                  data-testid="add-model-multiple"
                  onChange={(event) => set({ multiple: event.target.value })}
                />
              </label>
            ) : (
              <Choice
                label="Mode"
                value={fields.mode}
                options={['resize', 'tile']}
                testId="add-model-mode"
                onChange={(mode) => set({ mode })}
              />
            )}
            <Choice
              label="Scaling"
              value={fields.scaling}
              options={['0..1', '-1..1', 'z-score', 'mean-std']}
              testId="add-model-scaling"
              onChange={(scaling) => set({ scaling })}
            />
            {fields.scaling === 'mean-std' && (
              <>
                <label>
                  Mean per channel{' '}
                  <input
                    type="text"
                    value={fields.mean}
                    placeholder="0.485, 0.456, 0.406"
                    onChange={(event) => set({ mean: event.target.value })}
                  />
                </label>
                <label>
                  Std per channel{' '}
                  <input
                    type="text"
                    value={fields.std}
                    placeholder="0.229, 0.224, 0.225"
                    onChange={(event) => set({ std: event.target.value })}
                  />
                </label>
              </>
            )}
            {graph.outputs.length > 1 && (
              <Choice
                label="Output"
                value={fields.outputName}
                options={graph.outputs.map((v) => v.name)}
                testId="add-model-output-name"
                onChange={(outputName) => set({ outputName })}
              />
            )}
            <Choice
              label="Output gives"
              value={fields.activation}
              options={['logits', 'probabilities']}
              testId="add-model-activation"
              onChange={(activation) => set({ activation })}
            />
            <label>
              Output channels{' '}
              <input
                type="number"
                min={1}
                value={fields.classes}
                data-testid="add-model-classes"
                onChange={(event) => set({ classes: event.target.value })}
              />
            </label>
            {Number(fields.classes) > 1 && (
              <label>
                Foreground channel{' '}
                <input
                  type="number"
                  min={0}
                  value={fields.foreground}
                  data-testid="add-model-foreground"
                  onChange={(event) => set({ foreground: event.target.value })}
                />
              </label>
            )}
            <label>
              Threshold{' '}
              <input
                type="number"
                min={0.01}
                max={0.99}
                step="any"
                value={fields.threshold}
                onChange={(event) => set({ threshold: event.target.value })}
              />
            </label>
            <label>
              Version name{' '}
              <input
                type="text"
                value={name}
                placeholder="next vN"
                data-testid="add-model-name"
                onChange={(event) => setName(event.target.value)}
              />
            </label>
          </div>
          {built && 'missing' in built && (
            <p className="muted" data-testid="add-model-missing">
              Still to choose: {built.missing}
            </p>
          )}
        </>
      )}
      <div className="actions">
        <button
          type="button"
          data-testid="add-model-run"
          disabled={!built || !('config' in built) || running}
          onClick={() => void add()}
        >
          Add and test
        </button>
        <button type="button" disabled={running} onClick={onClose}>
          Close
        </button>
      </div>
      {error && (
        <p role="alert" className="job-error" data-testid="add-model-error">
          {error}
        </p>
      )}
      {job && <JobRow job={job} />}
      {result && (
        <p data-testid="add-model-result">
          Added {result.version}: test Dice {result.testDice?.toFixed(3) ?? '–'} on{' '}
          {result.testImages} images of the locked test split.
        </p>
      )}
    </div>
  );
}

/** "Import predictions": a folder of masks or probability maps made elsewhere, as a version. */
export function ImportPredictionsForm({ onClose }: { onClose: () => void }) {
  const [folder, setFolder] = useState('');
  const [name, setName] = useState('');
  const [probability, setProbability] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const { job, track } = useJob();
  const run = async () => {
    setError(null);
    try {
      track(
        await api['predictions.import']({ folder: folder.trim(), name: name.trim(), probability }),
      );
    } catch (caught) {
      setError(message(caught));
    }
  };
  const running = job?.state === 'running';
  const result = job?.state === 'succeeded' ? (job.result as ImportPredictionsResult) : null;
  return (
    <div className="interop-form" data-testid="import-predictions-form">
      <h4>Import predictions</h4>
      <p className="muted">
        PNG masks (0/255 or 0/1), 8/16-bit probability PNGs or NIfTI, named like the images
        (mask_&lt;name&gt;, &lt;stem&gt;.png, &lt;stem&gt;.nii.gz); DICOM SEGs pair with the DICOM
        images they reference, whatever their names.
      </p>
      <label>
        Folder{' '}
        <input
          type="text"
          value={folder}
          placeholder="/path/to/predictions"
          data-testid="import-predictions-folder"
          onChange={(event) => setFolder(event.target.value)}
        />
      </label>
      {transportName === 'electron' && (
        <button type="button" onClick={() => void pickFolder().then((p) => p && setFolder(p))}>
          Folder…
        </button>
      )}
      <label>
        Version name{' '}
        <input
          type="text"
          value={name}
          placeholder="nnunet-fold0"
          data-testid="import-predictions-name"
          onChange={(event) => setName(event.target.value)}
        />
      </label>
      <label>
        <input
          type="checkbox"
          checked={probability}
          data-testid="import-predictions-probability"
          onChange={(event) => setProbability(event.target.checked)}
        />
        Probability maps (not binary masks)
      </label>
      <div className="actions">
        <button
          type="button"
          data-testid="import-predictions-run"
          disabled={running || folder.trim() === '' || name.trim() === ''}
          onClick={() => void run()}
        >
          Import
        </button>
        <button type="button" disabled={running} onClick={onClose}>
          Close
        </button>
      </div>
      {error && (
        <p role="alert" className="job-error" data-testid="import-predictions-error">
          {error}
        </p>
      )}
      {job && <JobRow job={job} />}
      {result && (
        <div data-testid="import-predictions-result">
          <p>
            {result.version}: {result.report.pairs} pairs, {result.report.imagesWithoutMask} images
            without prediction, {result.report.orphanMasks} files matching no image; test Dice{' '}
            {result.testDice?.toFixed(3) ?? '–'} on {result.testImages} images.
          </p>
          {result.report.skipped.length > 0 && (
            <ul className="muted">
              {result.report.skipped.slice(0, 10).map((item) => (
                <li key={item.path}>
                  {item.path}: {item.reason}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}

/** Where a version came from and what it scores: its card, opened from the version table. */
export function VersionCardView({
  version,
  onClose,
  onPredict,
  onExport,
}: {
  version: string;
  onClose: () => void;
  onPredict: (version: string) => void;
  onExport: (version: string) => void;
}) {
  const [card, setCard] = useState<ModelCard | null>(null);
  const [error, setError] = useState<string | null>(null);
  const readOnly = useReadOnlyMessage();
  useEffect(() => {
    let stale = false;
    api['models.get']({ version }).then(
      (loaded) => !stale && setCard(loaded),
      (caught: unknown) => !stale && setError(message(caught)),
    );
    return () => {
      stale = true;
    };
  }, [version]);
  const source = card?.source;
  const test = card?.metrics.test;
  return (
    <div className="interop-form" data-testid="version-card" data-version={version}>
      <h4>Version {version}</h4>
      {error && <p className="job-error">{error}</p>}
      {card && source && (
        <dl className="version-card" data-testid="version-card-source" data-source={source.kind}>
          <dt>Source</dt>
          <dd>
            {source.kind === 'trained' &&
              `trained here${card.parent ? ` (fine-tuned from ${card.parent})` : ' from scratch'} on ${card.backend ?? '?'}`}
            {source.kind === 'onnx' && `ONNX model from ${source.path}`}
            {source.kind === 'predictions' && `predictions imported from ${source.path}`}
          </dd>
          {source.kind === 'onnx' && (
            <>
              <dt>File</dt>
              <dd>
                {(source.bytes / 2 ** 20).toFixed(2)} MiB, SHA-256 {source.sha256.slice(0, 16)}…,
                producer {source.graph.producer || 'unknown'}
              </dd>
              <dt>Input</dt>
              <dd>
                {source.config.input.layout}, {source.config.input.channels} channel(s),{' '}
                {Array.isArray(source.config.input.size)
                  ? `${source.config.input.size[1]}x${source.config.input.size[0]}`
                  : source.config.input.size}{' '}
                {card.input.mode}, scaling {source.config.input.scaling}
              </dd>
              <dt>Output</dt>
              <dd>
                {source.config.output.activation}, {source.config.output.classes} channel(s)
                {source.config.output.classes > 1 &&
                  `, foreground ${source.config.output.foreground}`}
                , threshold {source.config.output.threshold}
              </dd>
            </>
          )}
          {source.kind === 'predictions' && (
            <>
              <dt>Files</dt>
              <dd>
                {source.pairs} paired (
                {Object.entries(source.formats)
                  .map(([format, count]) => `${count} ${format}`)
                  .join(', ')}
                ), {source.unmatched} matching no image, {source.skipped} skipped;{' '}
                {source.probability ? 'probability maps' : 'binary masks'}
              </dd>
            </>
          )}
          {card.architecture && (
            <>
              <dt>Network</dt>
              <dd>
                U-Net base {card.architecture.base}, {card.architecture.size} px {card.input.mode},{' '}
                {card.architecture.parameters.toLocaleString()} parameters, {card.history.length}{' '}
                epochs
              </dd>
            </>
          )}
          <dt>Test split</dt>
          <dd data-testid="version-card-test">
            {test
              ? `Dice ${test.dice.toFixed(3)}, IoU ${test.iou.toFixed(3)} on ${test.images} images`
              : 'no figures'}
          </dd>
          <dt>Added</dt>
          <dd>{new Date(card.createdAt).toLocaleString()}</dd>
        </dl>
      )}
      <div className="actions">
        {source && source.kind !== 'predictions' && (
          <>
            <button
              type="button"
              data-testid="version-card-predict"
              disabled={readOnly !== null}
              title={readOnly ?? undefined}
              onClick={() => onPredict(version)}
            >
              Predict all images with {version}
            </button>
            <button type="button" onClick={() => onExport(version)}>
              Export ONNX
            </button>
          </>
        )}
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  );
}
