/**
 * State of the review screen: the worklist query and its lazily loaded pages, the selected image,
 * tools, layer settings and live figures. Pixel buffers live in ./controller (outside React).
 */
import { create } from 'zustand';
import type {
  ImageDetail,
  ImageListItem,
  ImageSort,
  MaskLayer,
  ReviewState,
  Split,
} from '../../../shared/contract-review';
import { api } from '../api';
import { useAppStore } from '../store';
import type { Tool } from '../editor/tool';
import type { Point } from '../mask/label-map';
import type { WindowLevel } from '../viewer/window-level';
import type { DicomDisplay } from '../../../shared/dicom-voi';
import { DEFAULT_DIFF, type DiffPair } from './figures-pair';
import type { AdjudicationSnapshot } from '../adjudication/adjudication-state';

export type LayerId = 'image' | MaskLayer;

export interface LayerSettings {
  visible: boolean;
  opacity: number;
  /** Draw only the boundary of a mask layer (ignored for the image). */
  outline: boolean;
}

export interface WorklistQuery {
  sort: ImageSort;
  direction: 'asc' | 'desc';
  filter: {
    state?: ReviewState;
    split?: Split;
    splits?: Split[];
    search?: string;
    modality?: string;
    viewPosition?: string;
  };
  /** Whose what-changed / disagreement figures the list sorts on (default: the active version). */
  changesOf?: string;
}

export interface PairFigures {
  candidate: MaskLayer;
  reference: MaskLayer;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  dice: number;
  iou: number;
}

export interface Figures {
  pair: PairFigures | null;
  layers: Partial<Record<MaskLayer, { areaPercent: number; components: number }>>;
}

/**
 * 'conflict': the host refused a save because another one landed first (see `conflict`);
 * 'retrying': the host could not be reached (or was busy): the edit is kept and sent again;
 * 'read-only': the host refused it because the project is open read-only (`saveError` says why).
 */
export type SaveStatus =
  'idle' | 'saving' | 'saved' | 'error' | 'conflict' | 'retrying' | 'read-only';

/**
 * A save the host refused because the label moved underneath the edit (another window, another
 * reviewer). The editor then shows the host's latest label; the refused edit waits to be
 * re-applied on top of it or discarded.
 */
export interface SaveConflict {
  imageId: number;
  /** The editor shows the host's latest label (false: loading it failed; it shows the edit). */
  reloaded: boolean;
  /** The label revision now in force on the host (what the editor was reloaded with). */
  latestRevisionId: number | null;
  /** Pixels the refused edit changed. */
  changedPixels: number;
}

/** An image the viewer cannot show, described where the image would be (./selection.ts). */
export interface ImageFailure {
  imageId: number;
  name: string;
  /** The file on the host and its folder, when the host could say. */
  file: string | null;
  folder: string | null;
  /** Why, in words. */
  reason: string;
  /** What the user can do. */
  advice: string;
}

export interface ViewTransform {
  scale: number;
  x: number;
  y: number;
}

export const PAGE_SIZE = 200;
export const REVIEW_STATES: readonly ReviewState[] = [
  'unreviewed',
  'accepted',
  'corrected',
  'flagged',
  'negative',
];

/** The review screen's state (what the editor registry's `enabled` and `active` read). */
export interface ReviewStoreState {
  query: WorklistQuery;
  total: number | null;
  /** A team reader's worklist is their queue: how many of its images they have read. */
  queue: { read: number; total: number } | null;
  pages: Record<number, ImageListItem[]>;
  /** Bumped on every query change so late pages of an old query are dropped. */
  generation: number;
  listError: string | null;
  selectedId: number | null;
  selectedIndex: number | null;

  /** The shown image's detail; while a newly selected image loads, the previous one's. */
  detail: ImageDetail | null;
  loadingImage: boolean;
  /** The selected image cannot be shown (its file replaced, damaged, undecodable): why. */
  imageFailure: ImageFailure | null;
  tool: Tool;
  /** Points of the polygon being drawn (image pixels). */
  polygon: readonly Point[];
  brushRadius: number;
  threshold: number;
  islandMinPixels: number;
  layers: Record<LayerId, LayerSettings>;
  /** The mask layer `o` (outline) applies to. */
  selectedLayer: MaskLayer;
  diff: DiffPair;
  window: WindowLevel | null;
  maxValue: number;
  /** How the file says to window this image (DICOM VOI presets), or null. */
  dicomDisplay: DicomDisplay | null;
  view: ViewTransform;
  figures: Figures | null;
  saveStatus: SaveStatus;
  saveError: string | null;
  /** The refused edit of the open image, if any, until it is re-applied or discarded. */
  conflict: SaveConflict | null;
  helpOpen: boolean;
  /** The PACS dialog (search, retrieve) is open: its registry action opens it. */
  pacsOpen: boolean;
  /** The reading plans dialog (team review, src/renderer/src/team/PlansDialog.tsx). */
  plansOpen: boolean;
  /**
   * Marking the open image negative while its label has a lesion waits for the reviewer: clear
   * the label (then negative), or keep it (and the image is not negative).
   */
  negativeAsk: { imageId: number; pixels: number } | null;
  /** Why the project is open read-only (the host's `project.state`), or null: writable. */
  readOnly: string | null;
  /** The adjudicator's panel as its registry actions see it; null while it is closed. */
  adjudication: AdjudicationSnapshot | null;
}

interface ReviewStore extends ReviewStoreState {
  setQuery: (patch: Partial<WorklistQuery>) => void;
  ensureRange: (start: number, end: number) => void;
  loadPage: (page: number) => Promise<ImageListItem[]>;
  itemAt: (index: number) => ImageListItem | undefined;
  patchItem: (id: number, patch: Partial<ImageListItem>) => void;
  set: (patch: Partial<ReviewStore>) => void;
  setLayer: (id: LayerId, patch: Partial<LayerSettings>) => void;
}

const inFlight = new Map<string, Promise<ImageListItem[]>>();

// Brush size and the islands limit are the user's habits: kept in this browser profile.
const BRUSH_KEY = 'qataseg.editor.brushRadius';
const ISLANDS_KEY = 'qataseg.editor.islandMinPixels';

function storedNumber(key: string, fallback: number, min: number, max: number): number {
  try {
    const value = Number(localStorage.getItem(key));
    return Number.isInteger(value) && value >= min && value <= max ? value : fallback;
  } catch {
    return fallback; // storage disabled
  }
}

function store(key: string, value: number): void {
  try {
    localStorage.setItem(key, String(value));
  } catch {
    // Storage disabled or full: the setting lasts for this page only.
  }
}

export const useReviewStore = create<ReviewStore>((set, get) => ({
  query: { sort: 'name', direction: 'asc', filter: {} },
  total: null,
  queue: null,
  pages: {},
  generation: 0,
  listError: null,
  selectedId: null,
  selectedIndex: null,

  detail: null,
  loadingImage: false,
  imageFailure: null,
  tool: 'brush',
  polygon: [],
  brushRadius: storedNumber(BRUSH_KEY, 6, 1, 200),
  threshold: 0.5,
  islandMinPixels: storedNumber(ISLANDS_KEY, 20, 1, 100_000),
  layers: {
    image: { visible: true, opacity: 1, outline: false },
    'ground-truth': { visible: true, opacity: 0.6, outline: true },
    prediction: { visible: true, opacity: 0.45, outline: false },
    label: { visible: true, opacity: 0.5, outline: false },
  },
  selectedLayer: 'label',
  diff: DEFAULT_DIFF,
  window: null,
  maxValue: 255,
  dicomDisplay: null,
  view: { scale: 1, x: 0, y: 0 },
  figures: null,
  saveStatus: 'idle',
  saveError: null,
  conflict: null,
  helpOpen: false,
  pacsOpen: false,
  plansOpen: false,
  negativeAsk: null,
  readOnly: useAppStore.getState().project?.readOnly ?? null,
  adjudication: null,

  setQuery(patch) {
    const query = { ...get().query, ...patch };
    set({
      query,
      pages: {},
      total: null,
      generation: get().generation + 1,
      selectedIndex: null,
      listError: null,
    });
    void get().loadPage(0);
  },

  ensureRange(start, end) {
    const { pages } = get();
    for (let page = Math.floor(start / PAGE_SIZE); page <= Math.floor(end / PAGE_SIZE); page++) {
      if (!pages[page]) void get().loadPage(page);
    }
  },

  loadPage(page) {
    const { query, generation } = get();
    const key = `${generation}:${page}`;
    const existing = get().pages[page];
    if (existing) return Promise.resolve(existing);
    const pending = inFlight.get(key);
    if (pending) return pending;
    const loading = api['images.list']({
      offset: page * PAGE_SIZE,
      limit: PAGE_SIZE,
      sort: query.sort,
      direction: query.direction,
      filter: query.filter,
      changesOf: query.changesOf,
    })
      .then(({ total, items, queue }) => {
        if (get().generation === generation) {
          const selectedId = get().selectedId;
          const found = items.findIndex((item) => item.id === selectedId);
          set((state) => ({
            total,
            queue: queue ?? null,
            pages: { ...state.pages, [page]: items },
            ...(found >= 0 ? { selectedIndex: page * PAGE_SIZE + found } : {}),
          }));
        }
        return items;
      })
      .catch((error: unknown) => {
        set({ listError: error instanceof Error ? error.message : String(error) });
        return [] as ImageListItem[];
      })
      .finally(() => inFlight.delete(key));
    inFlight.set(key, loading);
    return loading;
  },

  itemAt(index) {
    return get().pages[Math.floor(index / PAGE_SIZE)]?.[index % PAGE_SIZE];
  },

  patchItem(id, patch) {
    set((state) => {
      const pages: Record<number, ImageListItem[]> = {};
      let before: ImageListItem | undefined;
      for (const [page, items] of Object.entries(state.pages)) {
        before ??= items.find((item) => item.id === id);
        pages[Number(page)] = items.some((item) => item.id === id)
          ? items.map((item) => (item.id === id ? { ...item, ...patch } : item))
          : items;
      }
      // A reader's queue counts the images they have read: their own save (or undo back to
      // nothing) moves an image between unread ('unreviewed') and read.
      const { queue } = state;
      if (!queue || !before || patch.reviewState === undefined) return { pages };
      const wasRead = before.reviewState !== 'unreviewed';
      const isRead = patch.reviewState !== 'unreviewed';
      const read = queue.read + (isRead === wasRead ? 0 : isRead ? 1 : -1);
      return { pages, queue: { ...queue, read } };
    });
  },

  set(patch) {
    set(patch);
  },

  setLayer(id, patch) {
    set((state) => ({ layers: { ...state.layers, [id]: { ...state.layers[id], ...patch } } }));
  },
}));

useReviewStore.subscribe((state, previous) => {
  if (state.brushRadius !== previous.brushRadius) store(BRUSH_KEY, state.brushRadius);
  if (state.islandMinPixels !== previous.islandMinPixels) {
    store(ISLANDS_KEY, state.islandMinPixels);
  }
});

/**
 * Index of the next (direction 1) or previous (-1) list entry after `from` that satisfies
 * `predicate`, loading pages as needed; null when there is none.
 */
export async function findIndex(
  from: number,
  direction: 1 | -1,
  predicate: (item: ImageListItem) => boolean,
): Promise<number | null> {
  const store = useReviewStore.getState();
  if (store.total === null) await store.loadPage(0);
  const total = useReviewStore.getState().total ?? 0;
  for (let index = from + direction; index >= 0 && index < total; index += direction) {
    const page = Math.floor(index / PAGE_SIZE);
    const items = useReviewStore.getState().pages[page] ?? (await store.loadPage(page));
    const item = items[index % PAGE_SIZE];
    if (!item) return null;
    if (predicate(item)) return index;
  }
  return null;
}
