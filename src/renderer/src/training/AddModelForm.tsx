import { useState } from 'react';
import { plural } from '../../../shared/plural';
import type { AddModelResult, OnnxGraphInfo } from '../../../shared/interop-schemas';
import { api } from '../api';
import { JobRow } from '../jobs/JobsBar';
import {
  configFromFields,
  EMPTY_FIELDS,
  fieldsFromConfig,
  parseSize,
  type ConfigFields,
} from './add-model-config';
import { useFollowedJob } from '../jobs/use-followed-job';
import { Choice, message } from './interop-common';

function dims(value: OnnxGraphInfo['inputs'][number]): string {
  return value.dims ? `[${value.dims.map((d) => d ?? '?').join(', ')}]` : '[unknown rank]';
}

/**
 * "Add ONNX model": the file is read first and its inputs and outputs shown; the user then says
 * how images go in and what comes out (nothing is preselected), unless a model.json beside the
 * file says it: then the fields are filled from it, to check. The job copies, checks and tests the
 * model on the locked test split, with progress and Cancel.
 */
export function AddModelForm({ onClose }: { onClose: () => void }) {
  const [file, setFile] = useState('');
  const [name, setName] = useState('');
  const [graph, setGraph] = useState<OnnxGraphInfo | null>(null);
  const [fields, setFields] = useState<ConfigFields>(EMPTY_FIELDS);
  const [error, setError] = useState<string | null>(null);
  const { job, follow } = useFollowedJob();
  const set = (patch: Partial<ConfigFields>) => setFields((current) => ({ ...current, ...patch }));

  const read = async () => {
    setError(null);
    setGraph(null);
    try {
      const read = await api['models.inspectOnnx']({ path: file.trim() });
      setGraph(read);
      setFields(read.beside?.config ? fieldsFromConfig(read.beside.config) : EMPTY_FIELDS);
    } catch (caught) {
      setError(message(caught));
    }
  };
  const built = graph ? configFromFields(fields, graph) : null;
  const add = async () => {
    if (!built || !('config' in built)) return;
    setError(null);
    try {
      follow(
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
          {graph.beside && (
            <p
              className={graph.beside.config ? 'muted' : 'job-error'}
              data-testid="add-model-beside"
            >
              {graph.beside.config
                ? `Filled in from ${graph.beside.file}: check the fields, then add.`
                : `${graph.beside.file} was not used: ${graph.beside.problem ?? 'unreadable'}. Say how images go in and what comes out below.`}
            </p>
          )}
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
          {plural(result.testImages, 'image')} of the locked test split.
        </p>
      )}
    </div>
  );
}
