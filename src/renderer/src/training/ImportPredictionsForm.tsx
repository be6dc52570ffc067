import { useState } from 'react';
import { plural } from '../../../shared/plural';
import type { ImportPredictionsResult } from '../../../shared/interop-schemas';
import { api } from '../api';
import { FolderField } from '../common/FolderField';
import { useFollowedJob } from '../jobs/use-followed-job';
import { JobRow } from '../jobs/JobsBar';
import { message } from './interop-common';

/** "Import predictions": a folder of masks or probability maps made elsewhere, as a version. */
export function ImportPredictionsForm({ onClose }: { onClose: () => void }) {
  const [folder, setFolder] = useState('');
  const [name, setName] = useState('');
  const [probability, setProbability] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const { job, follow } = useFollowedJob();
  const run = async () => {
    setError(null);
    try {
      follow(
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
      <FolderField
        label="Folder"
        value={folder}
        onChange={setFolder}
        onError={setError}
        placeholder="/path/to/predictions"
        testId="import-predictions-folder"
      />
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
            {result.version}: {plural(result.report.pairs, 'pair')},{' '}
            {plural(result.report.imagesWithoutMask, 'image')} without prediction,{' '}
            {plural(result.report.orphanMasks, 'file')} matching no image; test Dice{' '}
            {result.testDice?.toFixed(3) ?? '–'} on {plural(result.testImages, 'image')}.
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
