/**
 * The worklist: every image of the project in one virtualized list (only visible rows exist in
 * the DOM; pages of rows are fetched from `images.list` as they scroll into view).
 */
import { memo, useEffect, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { ImageFacets, ImageListItem, ImageSort } from '../../../shared/contract-review';
import { api } from '../api';
import { REVIEW_STATES, useReviewStore } from './review-store';
import { selectIndex } from './actions';
import { QueueBadge } from '../training/QueueBadge';
import { plural } from '../../../shared/plural';

const ROW_HEIGHT = 44;

interface Column {
  sort: ImageSort;
  label: string;
  className: string;
  /** What the column means, on hover: the figures are not self-explanatory. */
  title?: string;
}

export const COLUMNS: Column[] = [
  { sort: 'name', label: 'Name', className: 'col-name' },
  { sort: 'split', label: 'Split', className: 'col-split' },
  { sort: 'state', label: 'State', className: 'col-state' },
  {
    sort: 'dice',
    label: 'Dice',
    className: 'col-num',
    title:
      'Dice of the active model’s prediction against the label (the correction, else the ground ' +
      'truth): 1 = identical, 0 = no overlap. 1.000 also when both are empty. Sort ascending to ' +
      'review the worst predictions first.',
  },
  {
    sort: 'area',
    label: 'Area',
    className: 'col-num',
    title: 'Share of the image the active model predicts as infection',
  },
  {
    sort: 'uncertainty',
    label: 'Unc.',
    className: 'col-num',
    title:
      'Uncertainty: mean binary entropy over the predicted lesion, 0 (sure) to 1 (undecided). ' +
      'Sort descending to review the least certain predictions first.',
  },
];

/**
 * The Dice cell's tooltip: a Dice of 1 for an empty label against an empty prediction is "both
 * empty" (nothing to find, nothing found), not a perfect outline, and says so.
 */
export function diceTitle(item: Pick<ImageListItem, 'dice' | 'predictedArea'>): string | undefined {
  if (item.dice === null) return 'No prediction of the active model';
  if (item.dice === 1 && item.predictedArea === 0) {
    return 'Dice 1.000 because both are empty: the label and the prediction have no lesion';
  }
  return undefined;
}

/**
 * Shown when the project has DICOM images: the person reviewing needs to know whose image and
 * what it is. Two lines a cell (Patient ID over study date, modality over view), so the columns
 * fit the worklist at 1280 px.
 */
const DICOM_COLUMNS: Column[] = [
  { sort: 'patient', label: 'Patient', className: 'col-patient' },
  { sort: 'studyDate', label: 'Study', className: 'col-study' },
];

/** A filter's choices: the project's own values, and the one in force even if none is left. */
function choices(values: readonly string[], current: string | undefined): string[] {
  return current && !values.includes(current) ? [...values, current] : [...values];
}

function figure(value: number | null, digits = 3): string {
  return value === null ? '–' : value.toFixed(digits);
}

// Memoised: scrolling re-renders the list every frame, but a row only when its item changes.
const Row = memo(function Row({
  item,
  index,
  selected,
  sort,
  dicomColumns,
}: {
  item: ImageListItem;
  index: number;
  selected: boolean;
  sort: ImageSort;
  dicomColumns: boolean;
}) {
  return (
    <div
      className={`row${selected ? ' selected' : ''}${item.mediaError ? ' media-error' : ''}`}
      data-testid="worklist-row"
      data-image-id={item.id}
      data-media-error={item.mediaError ? 'true' : 'false'}
      data-state={item.reviewState}
      onClick={() => void selectIndex(index)}
    >
      <img
        className="thumb"
        src={api.mediaUrl('thumbnail', item.id, { v: item.sha256.slice(0, 16) })}
        alt=""
        decoding="async"
        width={36}
        height={36}
      />
      <span
        className="col-name"
        title={
          item.dicom
            ? `${item.relPath}\n${[item.dicom.modality, item.dicom.viewPosition].filter(Boolean).join(' ')}`
            : item.relPath
        }
      >
        <span className="name-text" data-testid="worklist-name">
          {item.name}
        </span>
        {item.mediaError && (
          <span
            className="media-error-badge"
            data-testid="worklist-media-error"
            title={`Cannot be shown: ${item.mediaError}`}
            aria-label="cannot be shown"
          >
            ⚠
          </span>
        )}
        <QueueBadge item={item} sort={sort} />
      </span>
      {dicomColumns && (
        <>
          <span className="col-who two-lines">
            <span className="col-patient" data-testid="worklist-patient">
              {item.dicom?.patientId || '–'}
            </span>
            <span className="col-study muted">{item.dicom?.studyDate || '–'}</span>
          </span>
          <span className="col-what two-lines" data-testid="worklist-modality-view">
            <span data-testid="worklist-modality">{item.dicom?.modality || '–'}</span>
            <span className="muted" data-testid="worklist-view">
              {item.dicom?.viewPosition || '–'}
            </span>
          </span>
        </>
      )}
      <span className="col-split" title={item.split}>
        {item.split}
      </span>
      <span className={`col-state state-${item.reviewState}`} title={item.reviewState}>
        {item.reviewState}
      </span>
      <span
        className={`col-num${item.dice === 1 && item.predictedArea === 0 ? ' both-empty' : ''}`}
        title={diceTitle(item)}
        data-testid="worklist-dice"
      >
        {figure(item.dice)}
      </span>
      <span className="col-num">
        {item.predictedArea === null ? '–' : `${(item.predictedArea * 100).toFixed(1)}%`}
      </span>
      <span className="col-num">{figure(item.uncertainty, 2)}</span>
    </div>
  );
});

export function Worklist() {
  const scrollRef = useRef<HTMLDivElement>(null);
  const query = useReviewStore((s) => s.query);
  const total = useReviewStore((s) => s.total);
  const queue = useReviewStore((s) => s.queue);
  const pages = useReviewStore((s) => s.pages);
  const selectedIndex = useReviewStore((s) => s.selectedIndex);
  const selectedId = useReviewStore((s) => s.selectedId);
  const listError = useReviewStore((s) => s.listError);
  const setQuery = useReviewStore((s) => s.setQuery);
  const ensureRange = useReviewStore((s) => s.ensureRange);
  const itemAt = useReviewStore((s) => s.itemAt);
  const [search, setSearch] = useState(query.filter.search ?? '');
  // DICOM columns and filters appear once a DICOM image is listed (or a DICOM filter is set).
  const [sawDicom, setSawDicom] = useState(false);

  const virtualizer = useVirtualizer({
    count: total ?? 0,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    // Let React batch scroll updates instead of a synchronous render per scroll event.
    useFlushSync: false,
  });
  const rows = virtualizer.getVirtualItems();
  const first = rows.length > 0 ? rows[0].index : 0;
  const last = rows.length > 0 ? rows[rows.length - 1].index : 0;

  useEffect(() => {
    if (total === null) void useReviewStore.getState().loadPage(0);
    else if (total > 0) ensureRange(first, last);
  }, [first, last, total, ensureRange, pages]);

  const firstItem = total ? itemAt(first) : undefined;
  useEffect(() => {
    if (firstItem?.dicom) setSawDicom(true);
  }, [firstItem]);
  const dicomColumns =
    sawDicom || query.filter.modality !== undefined || query.filter.viewPosition !== undefined;
  // The modality and view filters offer what the project holds (CT, MR, NM... as well as CR).
  const [facets, setFacets] = useState<ImageFacets>({ modalities: [], viewPositions: [] });
  useEffect(() => {
    if (!dicomColumns) return;
    let stale = false;
    api['images.facets']()
      .then((found) => !stale && setFacets(found))
      .catch(() => undefined);
    return () => {
      stale = true;
    };
  }, [dicomColumns, total]);
  const sortButton = (column: Column) => (
    <button
      key={column.sort}
      type="button"
      className={`${column.className} sort${query.sort === column.sort ? ' active' : ''}`}
      data-testid={`sort-${column.sort}`}
      title={column.title}
      onClick={() => sortBy(column.sort)}
    >
      {column.label}
      {query.sort === column.sort ? (query.direction === 'asc' ? ' ▲' : ' ▼') : ''}
    </button>
  );

  useEffect(() => {
    if (selectedIndex !== null) virtualizer.scrollToIndex(selectedIndex, { align: 'auto' });
  }, [selectedIndex, virtualizer]);

  // Search as you type, without a query per keystroke.
  useEffect(() => {
    const current = useReviewStore.getState().query.filter;
    if ((current.search ?? '') === search) return;
    const timer = setTimeout(() => {
      setQuery({
        filter: { ...useReviewStore.getState().query.filter, search: search || undefined },
      });
    }, 200);
    return () => clearTimeout(timer);
  }, [search, setQuery]);

  const sortBy = (sort: ImageSort) => {
    const direction =
      query.sort === sort
        ? query.direction === 'asc'
          ? 'desc'
          : 'asc'
        : sort === 'name'
          ? 'asc'
          : 'desc';
    setQuery({ sort, direction });
  };

  return (
    <section className={dicomColumns ? 'worklist dicom' : 'worklist'} data-testid="worklist">
      <div className="worklist-filters">
        <input
          type="search"
          placeholder={dicomColumns ? 'Search name or Patient ID…' : 'Search name…'}
          value={search}
          data-testid="worklist-search"
          onChange={(event) => setSearch(event.target.value)}
        />
        <select
          data-testid="worklist-filter-state"
          value={query.filter.state ?? ''}
          onChange={(event) =>
            setQuery({
              filter: {
                ...query.filter,
                state: (event.target.value || undefined) as
                  ImageListItem['reviewState'] | undefined,
              },
            })
          }
        >
          <option value="">All states</option>
          {REVIEW_STATES.map((state) => (
            <option key={state} value={state}>
              {state}
            </option>
          ))}
        </select>
        <select
          data-testid="worklist-filter-split"
          value={query.filter.split ?? ''}
          onChange={(event) =>
            setQuery({
              filter: {
                ...query.filter,
                split: (event.target.value || undefined) as ImageListItem['split'] | undefined,
                // A split picked here replaces a queue's split set.
                splits: undefined,
              },
            })
          }
        >
          <option value="">All splits</option>
          {(['train', 'test', 'control', 'unassigned'] as const).map((split) => (
            <option key={split} value={split}>
              {split}
            </option>
          ))}
        </select>
        {dicomColumns && (
          <>
            <select
              data-testid="worklist-filter-modality"
              value={query.filter.modality ?? ''}
              onChange={(event) =>
                setQuery({ filter: { ...query.filter, modality: event.target.value || undefined } })
              }
            >
              <option value="">All modalities</option>
              {choices(facets.modalities, query.filter.modality).map((modality) => (
                <option key={modality} value={modality}>
                  {modality}
                </option>
              ))}
            </select>
            <select
              data-testid="worklist-filter-view"
              value={query.filter.viewPosition ?? ''}
              onChange={(event) =>
                setQuery({
                  filter: { ...query.filter, viewPosition: event.target.value || undefined },
                })
              }
            >
              <option value="">All views</option>
              {choices(facets.viewPositions, query.filter.viewPosition).map((view) => (
                <option key={view} value={view}>
                  {view}
                </option>
              ))}
            </select>
          </>
        )}
        {query.filter.splits && (
          <button
            type="button"
            className="chip"
            data-testid="worklist-splits"
            title="This queue leaves the locked test split out. Click to show every split."
            onClick={() => setQuery({ filter: { ...query.filter, splits: undefined } })}
          >
            {query.filter.splits.join(', ')} only ×
          </button>
        )}
        <span className="muted" data-testid="worklist-total">
          {total === null ? '… images' : plural(total, 'image')}
        </span>
        {queue && (
          <span
            className="chip"
            data-testid="worklist-queue"
            title="Your reading queue: the images assigned to you, unread first"
          >
            {queue.read} of {queue.total} read
          </span>
        )}
      </div>
      <div className="row header" data-testid="worklist-header">
        <span className="thumb" />
        {sortButton(COLUMNS[0])}
        {dicomColumns && (
          <>
            <span className="col-who two-lines">{DICOM_COLUMNS.map(sortButton)}</span>
            <span className="col-what two-lines" title="Modality and view position">
              <span>Mod.</span>
              <span>View</span>
            </span>
          </>
        )}
        {COLUMNS.slice(1).map(sortButton)}
      </div>
      {listError && (
        <div className="error" role="alert">
          {listError}
        </div>
      )}
      <div ref={scrollRef} className="worklist-scroll" data-testid="worklist-scroll">
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {rows.map((row) => {
            const item = itemAt(row.index);
            return (
              <div
                key={row.key}
                className="row-slot"
                style={{ transform: `translateY(${row.start}px)`, height: ROW_HEIGHT }}
              >
                {item ? (
                  <Row
                    item={item}
                    index={row.index}
                    selected={item.id === selectedId}
                    sort={query.sort}
                    dicomColumns={dicomColumns}
                  />
                ) : (
                  <div className="row placeholder muted">…</div>
                )}
              </div>
            );
          })}
        </div>
      </div>
    </section>
  );
}
