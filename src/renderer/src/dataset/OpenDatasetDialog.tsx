/**
 * "Open dataset": pick a QaTa-layout folder (native dialog in the app, a typed path in browser
 * mode), import it into the open project with progress and Cancel, then show the validation report
 * (pairs, images without mask, orphan masks, skipped files with reasons, warnings).
 */
import { useEffect, useState } from 'react';
import { FolderField } from '../common/FolderField';
import { JobDialog } from '../common/JobDialog';
import type { ImportResult } from '../../../shared/dataset-schemas';
import { api } from '../api';
import { JobRow } from '../jobs/JobsBar';
import { useFollowedJob } from '../jobs/use-followed-job';
import { plural } from '../../../shared/plural';

export function OpenDatasetDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const [root, setRoot] = useState('');
  const [maskPattern, setMaskPattern] = useState('');
  const [controlsAsNegative, setControlsAsNegative] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const { job, follow, forget } = useFollowedJob();
  useEffect(() => {
    if (!open) return;
    setError(null);
  }, [open]);

  const start = async () => {
    // A new run: the previous run's report and error go.
    setError(null);
    forget();
    try {
      follow(
        await api['dataset.import']({
          root: root.trim(),
          maskPattern: maskPattern.trim() || undefined,
          controlsAsNegative,
        }),
      );
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    }
  };

  const running = job?.state === 'running';
  const result = job?.state === 'succeeded' ? (job.result as ImportResult | undefined) : undefined;

  return (
    <JobDialog
      open={open}
      onClose={onClose}
      busy={running}
      testId="open-dataset-dialog"
      onSubmit={() => {
        if (root.trim()) void start();
      }}
    >
      <h2>Open dataset</h2>
      <p className="muted">
        A QaTa-COV19 folder (<code>Images/</code> beside <code>Ground-truths/</code>, or{' '}
        <code>Train Set/</code> and <code>Test Set/</code>), control groups, or the LViT layout (
        <code>img/</code> beside <code>labelcol/</code>), or DICOM files in any folder tree
        (patient/study/series as a PACS export or DICOM media holds them), with a DICOM SEG that
        references an image as its ground truth. Files are read, never written.
      </p>
      <FolderField
        label="Folder"
        value={root}
        onChange={setRoot}
        onError={setError}
        placeholder="/data/QaTa-COV19-v2"
        testId="dataset-root"
        autoFocus
      />
      <label>
        Mask name pattern (optional)
        <input
          value={maskPattern}
          onChange={(event) => setMaskPattern(event.target.value)}
          placeholder="mask_{name}"
          spellCheck={false}
        />
      </label>
      <label className="checkbox">
        <input
          type="checkbox"
          checked={controlsAsNegative}
          onChange={(event) => setControlsAsNegative(event.target.checked)}
        />
        Control-group images are negatives (empty ground truth)
      </label>
      {error && (
        <p role="alert" className="error" data-testid="import-error">
          {error}
        </p>
      )}
      {job && <JobRow job={job} />}
      {result && <ImportReportView result={result} />}
      <div className="actions">
        <button type="button" onClick={onClose} disabled={running}>
          Close
        </button>
        <button type="submit" data-testid="start-import" disabled={running || !root.trim()}>
          Import
        </button>
      </div>
    </JobDialog>
  );
}

export function ImportReportView({ result }: { result: ImportResult }) {
  const { report, refresh } = result;
  // The host's warning about the dataset as a whole ('.'), e.g. why nothing was paired.
  const overall = report.warnings.filter((item) => item.path === '.');
  const perFile = report.warnings.filter((item) => item.path !== '.');
  return (
    <div className="import-report" data-testid="import-report">
      {overall.map((item) => (
        <p key={item.message} role="alert" className="warning" data-testid="import-warning">
          {item.message}
        </p>
      ))}
      <p>
        <strong data-testid="report-pairs">{report.pairs}</strong> image/mask{' '}
        {report.pairs === 1 ? 'pair' : 'pairs'}, {plural(report.imagesWithoutMask, 'image')} without
        mask, {plural(report.orphanMasks, 'orphan mask')} ({result.layout} layout,{' '}
        {result.seconds.toFixed(1)} s).
      </p>
      <p className="muted">
        Splits: train {report.splits.train}, test {report.splits.test}, control{' '}
        {report.splits.control}, unassigned {report.splits.unassigned}. New {refresh.added}, changed{' '}
        {refresh.changed}, missing {refresh.missing}.
      </p>
      {report.skipped.length > 0 && (
        <details open>
          <summary>
            {report.skipped.length} {report.skipped.length === 1 ? 'file' : 'files'} skipped
          </summary>
          <ul data-testid="report-skipped">
            {report.skipped.slice(0, 200).map((item) => (
              <li key={item.path}>
                <code>{item.path}</code>: {item.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
      {perFile.length > 0 && (
        <details>
          <summary>
            {perFile.length} {perFile.length === 1 ? 'warning' : 'warnings'}
          </summary>
          <ul>
            {perFile.slice(0, 200).map((item) => (
              <li key={`${item.path}:${item.message}`}>
                <code>{item.path}</code>: {item.message}
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}
