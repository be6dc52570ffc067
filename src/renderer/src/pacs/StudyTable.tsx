/**
 * One page of studies found on the PACS, each with its series and instance counts; a tick on a
 * study chooses the whole study, a tick on a series that series only. Choices are kept across
 * pages (they are the retrieve targets), and paging asks the host for the next page.
 */
import type { PacsSearchResult, PacsStudy } from '../../../shared/pacs-schemas';

export interface RetrieveTarget {
  studyInstanceUid: string;
  seriesInstanceUid?: string;
  /** What the user chose, in words (patient, date, series). */
  label: string;
}

export type Selection = ReadonlyMap<string, RetrieveTarget>;

export function targetKey(study: string, series?: string): string {
  return series ? `${study}/${series}` : study;
}

function formatDate(date: string): string {
  return /^\d{8}$/.test(date) ? `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6)}` : date;
}

function studyLabel(study: PacsStudy): string {
  return `${study.patientId || '(no ID)'} ${formatDate(study.studyDate)} ${study.description}`.trim();
}

/** The selection with `target` ticked or unticked; a study's own tick replaces its series'. */
export function toggled(selection: Selection, target: RetrieveTarget, on: boolean): Selection {
  const next = new Map(selection);
  const key = targetKey(target.studyInstanceUid, target.seriesInstanceUid);
  if (!on) next.delete(key);
  else {
    next.set(key, target);
    if (!target.seriesInstanceUid)
      for (const other of [...next.keys()])
        if (other.startsWith(`${target.studyInstanceUid}/`)) next.delete(other);
  }
  return next;
}

export function StudyTable({
  result,
  selection,
  onSelect,
  onPage,
  disabled,
}: {
  result: PacsSearchResult;
  selection: Selection;
  onSelect: (selection: Selection) => void;
  onPage: (offset: number) => void;
  disabled: boolean;
}) {
  const { studies, offset, limit, more } = result;
  return (
    <div className="pacs-results" data-testid="pacs-results">
      <div className="pacs-table-scroll">
        <table className="pacs-table">
          <thead>
            <tr>
              <th />
              <th>Patient</th>
              <th>Name</th>
              <th>Date</th>
              <th>Accession</th>
              <th>Modality</th>
              <th>Body part</th>
              <th>Description</th>
              <th>Instances</th>
            </tr>
          </thead>
          {studies.map((study) => {
            const studyChosen = selection.has(study.studyInstanceUid);
            return (
              <tbody
                key={study.studyInstanceUid}
                data-testid="pacs-study"
                data-uid={study.studyInstanceUid}
              >
                <tr className="pacs-study-row">
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Study ${studyLabel(study)}`}
                      data-testid="pacs-study-select"
                      checked={studyChosen}
                      disabled={disabled}
                      onChange={(event) =>
                        onSelect(
                          toggled(
                            selection,
                            {
                              studyInstanceUid: study.studyInstanceUid,
                              label: studyLabel(study),
                            },
                            event.target.checked,
                          ),
                        )
                      }
                    />
                  </td>
                  <td>{study.patientId}</td>
                  <td>{study.patientName}</td>
                  <td>{formatDate(study.studyDate)}</td>
                  <td>{study.accessionNumber}</td>
                  <td>{study.modalities.join(', ')}</td>
                  <td>{[...new Set(study.series.map((series) => series.bodyPart))].join(', ')}</td>
                  <td>{study.description}</td>
                  <td data-testid="pacs-study-instances">{study.instances ?? '?'}</td>
                </tr>
                {study.series.map((series) => (
                  <tr
                    key={series.seriesInstanceUid}
                    className="pacs-series-row"
                    data-testid="pacs-series"
                  >
                    <td />
                    <td colSpan={4}>
                      <label className="checkbox">
                        <input
                          type="checkbox"
                          data-testid="pacs-series-select"
                          checked={
                            studyChosen ||
                            selection.has(
                              targetKey(study.studyInstanceUid, series.seriesInstanceUid),
                            )
                          }
                          disabled={disabled || studyChosen}
                          onChange={(event) =>
                            onSelect(
                              toggled(
                                selection,
                                {
                                  studyInstanceUid: study.studyInstanceUid,
                                  seriesInstanceUid: series.seriesInstanceUid,
                                  label:
                                    `${studyLabel(study)}, series ${series.seriesNumber ?? ''} ${series.description}`.trim(),
                                },
                                event.target.checked,
                              ),
                            )
                          }
                        />
                        Series {series.seriesNumber ?? '–'} {series.description}
                      </label>
                    </td>
                    <td>{series.modality}</td>
                    <td>{series.bodyPart}</td>
                    <td />
                    <td data-testid="pacs-series-instances">{series.instances ?? '?'}</td>
                  </tr>
                ))}
              </tbody>
            );
          })}
        </table>
      </div>
      <span className="row pacs-pager">
        <span className="muted" data-testid="pacs-page">
          {studies.length === 0
            ? more
              ? 'No study on this page matches the body part (more on the server)'
              : 'No study matches'
            : `Studies ${offset + 1}–${offset + studies.length}${more ? ' (more on the server)' : ''}`}
        </span>
        <span className="spacer" />
        <button
          type="button"
          data-testid="pacs-previous"
          disabled={disabled || offset === 0}
          onClick={() => onPage(Math.max(0, offset - limit))}
        >
          Previous
        </button>
        <button
          type="button"
          data-testid="pacs-next"
          disabled={disabled || !more}
          onClick={() => onPage(offset + limit)}
        >
          Next
        </button>
      </span>
    </div>
  );
}
