/**
 * Pure helpers of the Training panel: reading a training job's `detail` (relayed by the host from
 * the ML worker) into curve data and figures, and the worklist queue badges of active learning.
 */
import type { Job } from '../../../shared/contract';
import type { EpochRecordInfo, ModelComparison, ModelSummary } from '../../../shared/contract-ml';
import type { ImageListItem, ImageSort, Split } from '../../../shared/contract-review';
import type { WorklistQuery } from '../review/review-store';

export interface StepPoint {
  /** Fractional epoch: epoch - 1 + step / steps. */
  x: number;
  loss: number;
}

export interface TrainingView {
  version: string | null;
  backend: string | null;
  epoch: number | null;
  epochs: number | null;
  step: number | null;
  steps: number | null;
  loss: number | null;
  imagesPerSecond: number | null;
  etaSeconds: number | null;
  history: EpochRecordInfo[];
  /** The epoch the version keeps (best validation Dice): its figure is the versions table's. */
  bestEpoch: number | null;
  promoted: boolean | null;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function isEpochRecord(value: unknown): value is EpochRecordInfo {
  const record = value as Partial<EpochRecordInfo> | null;
  return (
    typeof record === 'object' &&
    record !== null &&
    typeof record.epoch === 'number' &&
    typeof record.loss === 'number'
  );
}

/** What a training job's detail says, with every field optional (detail is free-form). */
export function trainingView(job: Job): TrainingView {
  const d = job.detail;
  const history = Array.isArray(d.history) ? d.history.filter(isEpochRecord) : [];
  const params = (d.params ?? {}) as { epochs?: unknown };
  return {
    version: typeof d.version === 'string' ? d.version : null,
    backend: typeof d.backend === 'string' ? d.backend : null,
    epoch: num(d.epoch),
    epochs: num(d.epochs) ?? num(params.epochs),
    step: num(d.step),
    steps: num(d.steps),
    loss: num(d.loss),
    imagesPerSecond: num(d.imagesPerSecond),
    etaSeconds: num(d.etaSeconds),
    history,
    bestEpoch: num(d.bestEpoch),
    promoted: typeof d.promoted === 'boolean' ? d.promoted : null,
  };
}

/** The step point a progress update adds to the live loss line, or null when it adds none. */
export function stepPoint(view: TrainingView): StepPoint | null {
  if (view.epoch === null || view.step === null || !view.steps || view.loss === null) return null;
  return { x: view.epoch - 1 + view.step / view.steps, loss: view.loss };
}

/** Appends a step point unless it repeats the last one (epoch updates resend the last step). */
export function appendStep(points: readonly StepPoint[], point: StepPoint | null): StepPoint[] {
  if (!point) return points as StepPoint[];
  const last = points[points.length - 1];
  if (last && last.x >= point.x) return points as StepPoint[];
  return [...points, point];
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

export function formatBytes(bytes: number): string {
  const mib = bytes / 2 ** 20;
  return mib >= 1024 ? `${(mib / 1024).toFixed(1)} GiB` : `${Math.round(mib)} MiB`;
}

/** Sorts under which the worklist is an active-learning queue, and why an image is in it. */
export const QUEUE_SORTS = ['uncertainty', 'disagreement', 'changed'] as const;
export type QueueSort = (typeof QUEUE_SORTS)[number];

export function isQueueSort(sort: ImageSort): sort is QueueSort {
  return (QUEUE_SORTS as readonly string[]).includes(sort);
}

/** The badge that says why an image is queued under a sort, or null (not queued / no figure). */
export function queueBadge(
  item: Pick<ImageListItem, 'uncertainty' | 'disagreement' | 'changed'>,
  sort: ImageSort,
): { label: string; title: string } | null {
  switch (sort) {
    case 'uncertainty':
      return item.uncertainty === null
        ? null
        : {
            label: `uncertain ${item.uncertainty.toFixed(2)}`,
            title: 'Mean binary entropy over the predicted lesion (bits per pixel, 1 = undecided)',
          };
    case 'disagreement':
      return item.disagreement === null
        ? null
        : {
            label: `versions disagree ${Math.round(item.disagreement * 100)}%`,
            title: '1 - Dice between the active and the previous model version',
          };
    case 'changed':
      return item.changed === null
        ? null
        : {
            label: `changed ${(item.changed * 100).toFixed(1)}%`,
            title: 'Mean change of the predicted probability since the previous model version',
          };
    default:
      return null;
  }
}

/** Splits the labelling queues draw from: never the locked test split, which the loop leaves alone. */
export const LABELLING_SPLITS: readonly Split[] = ['train', 'control', 'unassigned'];

/**
 * The worklist filter of a queue: the labelling queues (uncertainty, disagreement) offer only
 * unreviewed images outside the locked test split; "what changed" keeps the current filter.
 */
export function queueFilter(
  current: WorklistQuery['filter'],
  sort: QueueSort,
): WorklistQuery['filter'] {
  if (sort === 'changed') return current;
  const { split, ...rest } = current;
  return {
    ...rest,
    ...(split && split !== 'test' ? { split } : {}),
    state: 'unreviewed',
    splits: [...LABELLING_SPLITS],
  };
}

/**
 * How much worse the compared version (b) is than the active one (a) on the locked test split, or
 * null when it is not worse or the splits differ (the host refuses such a promotion unconfirmed).
 */
export function promotionShortfall(
  comparison: ModelComparison,
): { by: number; dice: number; activeDice: number } | null {
  const active = comparison.splits.test.a?.dice;
  const candidate = comparison.splits.test.b?.dice;
  if (!comparison.sameTestSplit || active === undefined || candidate === undefined) return null;
  return candidate < active
    ? { by: active - candidate, dice: candidate, activeDice: active }
    : null;
}

/** The epoch record the version keeps, or null before the first epoch's validation. */
export function bestRecord(view: TrainingView): EpochRecordInfo | null {
  return view.history.find((record) => record.epoch === view.bestEpoch) ?? null;
}

/** A figure for the tables: fixed digits, or a dash when there is none. */
export function figure(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined ? '–' : value.toFixed(digits);
}

/** The newest job of a kind (the panel follows only those). */
export function newest(jobs: Record<string, Job>, kind: Job['kind']): Job | null {
  let found: Job | null = null;
  for (const job of Object.values(jobs)) {
    if (job.kind === kind && (!found || job.startedAt > found.startedAt)) found = job;
  }
  return found;
}

/** Where a version came from, for the table: its parent, or the file or folder it was added from. */
export function versionOrigin(model: ModelSummary): string {
  const name = (model.origin ?? '').split(/[\\/]/).filter(Boolean).pop() ?? '';
  if (model.source === 'onnx') return `ONNX ${name}`;
  if (model.source === 'predictions') return `predictions ${name}`;
  return model.parent ?? 'scratch';
}
