/**
 * The Export dialog's "Send to PACS": the DICOM SEG of each DICOM image (a PNG-sourced image goes
 * with a Secondary Capture the SEG references) sent by STOW-RS to a chosen connection, from the
 * ground truth, the label in force or a model's prediction; the report lists each instance as
 * stored, warning, failed or skipped, with the reason.
 */
import { useEffect, useState } from 'react';
import {
  pacsSendSourceSchema,
  type PacsConnection,
  type PacsSendResult,
} from '../../../shared/pacs-schemas';
import { api } from '../api';
import { errorMessage } from '../common/notices';
import { JobRow } from '../jobs/JobsBar';
import { useFollowedJob } from '../jobs/use-followed-job';

type SendSource = (typeof pacsSendSourceSchema.options)[number];

const SOURCE_LABELS: Record<SendSource, string> = {
  label: 'Label in force (correction, else ground truth)',
  'ground-truth': 'Ground truth',
  predicted: 'Predicted (a model)',
};

export function SendToPacs({ open }: { open: boolean }) {
  const [connections, setConnections] = useState<PacsConnection[]>([]);
  const [name, setName] = useState('');
  const [source, setSource] = useState<SendSource>('label');
  const [model, setModel] = useState('');
  const [error, setError] = useState<string | null>(null);
  const { job, follow, forget } = useFollowedJob();

  useEffect(() => {
    if (!open) return;
    let stale = false;
    api['pacs.list']().then(
      (list) => {
        if (stale) return;
        const usable = list.filter((connection) => connection.kind === 'dicomweb');
        setConnections(usable);
        setName((current) =>
          usable.some((connection) => connection.name === current)
            ? current
            : (usable[0]?.name ?? ''),
        );
      },
      (caught: unknown) => !stale && setError(errorMessage(caught)),
    );
    return () => {
      stale = true;
    };
  }, [open]);

  const send = async () => {
    setError(null);
    forget();
    try {
      follow(
        await api['pacs.send']({
          name,
          source,
          model: source === 'predicted' && model.trim() ? model.trim() : undefined,
        }),
      );
    } catch (caught) {
      setError(errorMessage(caught));
    }
  };

  const running = job?.state === 'running';
  const result =
    job?.state === 'succeeded' ? (job.result as PacsSendResult | undefined) : undefined;

  return (
    <fieldset className="pacs-send" data-testid="pacs-send">
      <legend>Send to PACS</legend>
      {connections.length === 0 ? (
        <p className="muted">No DICOMweb connection yet: add one in the PACS dialog.</p>
      ) : (
        <span className="row">
          <label>
            Connection
            <select
              data-testid="pacs-send-connection"
              value={name}
              onChange={(event) => setName(event.target.value)}
            >
              {connections.map((connection) => (
                <option key={connection.name} value={connection.name}>
                  {connection.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Masks
            <select
              data-testid="pacs-send-source"
              value={source}
              onChange={(event) => setSource(pacsSendSourceSchema.parse(event.target.value))}
            >
              {pacsSendSourceSchema.options.map((option) => (
                <option key={option} value={option}>
                  {SOURCE_LABELS[option]}
                </option>
              ))}
            </select>
          </label>
          {source === 'predicted' && (
            <label>
              Model version
              <input
                data-testid="pacs-send-model"
                value={model}
                placeholder="active model"
                spellCheck={false}
                onChange={(event) => setModel(event.target.value)}
              />
            </label>
          )}
        </span>
      )}
      <span className="actions">
        <button
          type="button"
          data-testid="pacs-send-start"
          disabled={running || !name}
          title="Sends a DICOM SEG per image (STOW-RS); sending again replaces, never duplicates"
          onClick={() => void send()}
        >
          Send to PACS
        </button>
      </span>
      {error && (
        <p role="alert" className="error" data-testid="pacs-send-error">
          {error}
        </p>
      )}
      {job && <JobRow job={job} />}
      {result && <SendReport result={result} />}
    </fieldset>
  );
}

function SendReport({ result }: { result: PacsSendResult }) {
  const warnings = result.instances.filter((entry) => entry.status === 'warning').length;
  return (
    <div className="pacs-send-report" data-testid="pacs-send-report">
      <p data-testid="pacs-send-counts">
        {result.stored} stored{warnings > 0 ? ` (${warnings} with a warning)` : ''}, {result.failed}{' '}
        failed, {result.skipped} skipped on {result.connection}.
      </p>
      <ul>
        {result.instances
          .filter((entry) => entry.status !== 'skipped')
          .slice(0, 200)
          .map((entry) => (
            <li
              key={entry.imageId}
              data-testid="pacs-send-instance"
              data-status={entry.status}
              className={entry.status === 'failed' ? 'error' : undefined}
            >
              <code>{entry.image}</code>: {entry.status}
              {entry.status !== 'stored' && ` — ${entry.message}`}
            </li>
          ))}
      </ul>
      {result.skipped > 0 && (
        <details>
          <summary>{result.skipped} skipped</summary>
          <ul>
            {result.instances
              .filter((entry) => entry.status === 'skipped')
              .slice(0, 200)
              .map((entry) => (
                <li key={entry.imageId}>
                  <code>{entry.image}</code>: {entry.message}
                </li>
              ))}
          </ul>
        </details>
      )}
    </div>
  );
}
