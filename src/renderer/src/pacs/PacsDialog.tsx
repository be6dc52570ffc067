/**
 * The PACS dialog, beside "Open dataset": a connection (pick, add, remove, test), a search of its
 * studies (patient, dates, modality, accession, body part) a page at a time with their series and
 * instance counts, and Retrieve of the chosen studies or series with progress, Cancel and each
 * one's import report. The worklist follows by itself (the host announces the imported images).
 * Opened by its registry action (`project.pacs`: button, menu, key).
 */
import { useCallback, useEffect, useState } from 'react';
import type { PacsConnection, PacsSearchResult } from '../../../shared/pacs-schemas';
import { api } from '../api';
import { JobDialog } from '../common/JobDialog';
import { errorMessage } from '../common/notices';
import { JobRow } from '../jobs/JobsBar';
import { useReviewStore } from '../review/review-store';
import { useReadOnlyMessage } from '../store';
import { ConnectionPicker } from './ConnectionPicker';
import { useRetrieveQueue } from './retrieve-queue';
import { RetrieveReport } from './RetrieveReport';
import { EMPTY_SEARCH, SearchForm, searchInput, type SearchFields } from './SearchForm';
import { StudyTable, type Selection } from './StudyTable';

/** Studies per page of results. */
export const PACS_PAGE_SIZE = 25;

export function PacsDialog() {
  const open = useReviewStore((state) => state.pacsOpen);
  const close = () => useReviewStore.getState().set({ pacsOpen: false });
  const readOnly = useReadOnlyMessage();
  const [connections, setConnections] = useState<PacsConnection[] | null>(null);
  const [selected, setSelected] = useState('');
  const [fields, setFields] = useState<SearchFields>(EMPTY_SEARCH);
  const [result, setResult] = useState<PacsSearchResult | null>(null);
  const [selection, setSelection] = useState<Selection>(new Map());
  const [searching, setSearching] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const retrieve = useRetrieveQueue();
  const busy = retrieve.active;

  const reload = useCallback(async (choose?: string) => {
    try {
      const list = await api['pacs.list']();
      setConnections(list);
      setSelected((current) => {
        const wanted = choose ?? current;
        return list.some((entry) => entry.name === wanted) ? wanted : (list[0]?.name ?? '');
      });
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }, []);

  useEffect(() => {
    if (!open) return;
    setError(null);
    void reload();
  }, [open, reload]);

  const search = async (offset: number) => {
    if (!selected) return;
    setError(null);
    setSearching(true);
    try {
      setResult(
        await api['pacs.search'](searchInput(selected, fields, { offset, limit: PACS_PAGE_SIZE })),
      );
    } catch (caught) {
      // The server's refusal, named: the connection and the form stay as they were.
      setError(errorMessage(caught));
    } finally {
      setSearching(false);
    }
  };

  return (
    <JobDialog
      open={open}
      onClose={close}
      busy={busy}
      testId="pacs-dialog"
      onSubmit={() => void search(0)}
    >
      <h2>PACS</h2>
      <p className="muted">
        Search a PACS over DICOMweb and retrieve studies or series into the project: each instance
        goes through the DICOM import (same report as Open dataset); instances the project already
        holds are not fetched again.
      </p>
      {connections && (
        <ConnectionPicker
          connections={connections}
          selected={selected}
          onSelect={(name) => {
            setSelected(name);
            setResult(null);
            setSelection(new Map());
          }}
          onChanged={reload}
          disabled={busy}
        />
      )}
      <SearchForm fields={fields} onChange={setFields} />
      <span className="actions">
        <button
          type="submit"
          data-testid="pacs-search"
          disabled={busy || searching || !selected}
          title={selected ? undefined : 'Add a connection first'}
        >
          {searching ? 'Searching…' : 'Search'}
        </button>
      </span>
      {error && (
        <p role="alert" className="error" data-testid="pacs-error">
          {error}
        </p>
      )}
      {result && (
        <StudyTable
          result={result}
          selection={selection}
          onSelect={setSelection}
          onPage={(offset) => void search(offset)}
          disabled={busy || searching}
        />
      )}
      {retrieve.job && <JobRow job={retrieve.job} />}
      {retrieve.active && retrieve.waiting > 0 && (
        <p className="muted" data-testid="pacs-waiting">
          {retrieve.waiting} more waiting
        </p>
      )}
      {retrieve.outcomes.length > 0 && <RetrieveReport outcomes={retrieve.outcomes} />}
      <div className="actions">
        <span className="muted" data-testid="pacs-selection">
          {selection.size === 0 ? 'Nothing chosen' : `${selection.size} chosen`}
        </span>
        <button type="button" onClick={close} disabled={busy}>
          Close
        </button>
        <button
          type="button"
          data-testid="pacs-retrieve"
          disabled={busy || selection.size === 0 || readOnly !== null}
          title={readOnly ?? 'Retrieve the chosen studies and series into the project'}
          onClick={() => retrieve.start(selected, [...selection.values()])}
        >
          Retrieve
        </button>
      </div>
    </JobDialog>
  );
}
