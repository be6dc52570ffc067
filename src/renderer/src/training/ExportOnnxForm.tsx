import { useState } from 'react';
import type { ExportModelResult } from '../../../shared/interop-schemas';
import { api, transportName } from '../api';
import { joinPath, message, pickFolder } from './interop-common';

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
