/** What a finished export wrote: count, folder, speed, manifest and the images it skipped. */
import { plural } from '../../../shared/plural';
import type { ExportResult } from '../../../shared/export-schemas';

export function ExportResultView({ result }: { result: ExportResult }) {
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
          <summary>{plural(result.skipped.length, 'image')} skipped</summary>
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
