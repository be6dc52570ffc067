/** What each retrieve of the PACS dialog did: instances listed, fetched, held, failed, and its import. */
import { ImportReportView } from '../dataset/OpenDatasetDialog';
import type { RetrieveOutcome } from './retrieve-queue';

export function RetrieveReport({ outcomes }: { outcomes: RetrieveOutcome[] }) {
  return (
    <div className="pacs-retrieve-report" data-testid="pacs-retrieve-report">
      {outcomes.map(({ target, result, error }) => (
        <section
          key={`${target.studyInstanceUid}/${target.seriesInstanceUid ?? ''}`}
          data-testid="pacs-retrieve-outcome"
          data-state={result ? 'done' : error === 'cancelled' ? 'cancelled' : 'failed'}
        >
          <h3>{target.label}</h3>
          {error && (
            <p role="alert" className={error === 'cancelled' ? 'muted' : 'error'}>
              {error === 'cancelled'
                ? 'Cancelled: the instances fetched so far stay for the next retrieve.'
                : error}
            </p>
          )}
          {result && (
            <>
              <p data-testid="pacs-retrieve-counts">
                {result.listed} listed, <strong>{result.fetched}</strong> fetched,{' '}
                {result.alreadyHeld} already held, {result.failed.length} failed.
              </p>
              {result.failed.length > 0 && (
                <ul className="error" data-testid="pacs-retrieve-failed">
                  {result.failed.slice(0, 100).map((failure) => (
                    <li key={failure.sopInstanceUid}>
                      <code>{failure.sopInstanceUid}</code>: {failure.reason}
                    </li>
                  ))}
                </ul>
              )}
              {result.import && <ImportReportView result={result.import} />}
            </>
          )}
        </section>
      ))}
    </div>
  );
}
