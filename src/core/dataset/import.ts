/**
 * Imports (or refreshes) a dataset folder into a project. Images are referenced, never copied:
 * the project keeps the root, each relative path, size, depth, channels and SHA-256. Ground-truth
 * masks are binarised and stored as revisions. One bad file never aborts an import; every file left
 * out is in the report with the reason. Nothing is ever written inside the dataset folder.
 *
 * Speed: files are read and hashed in a small pool of parallel tasks (sharp works on libuv's
 * threads); images are probed from their header (full decode is needed only for masks); rows are
 * written in batched transactions. A re-import skips the decode of files whose hash is unchanged.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import {
  DEFAULT_MAX_IMAGE_PIXELS,
  type ImportReport,
  type ImportResult,
} from '../../shared/dataset-schemas';
import { CancelledError, type JobReporter } from '../job-reporter';
import {
  clearGroundTruth,
  imagesOfDataset,
  insertImage,
  saveDatasetReport,
  updateImageFile,
  upsertDataset,
  type ExistingImage,
} from '../project/datasets';
import { imagesBySopInstance, saveDicomTags } from '../project/dicom-tags';
import { setGroundTruth } from '../project/masks';
import { encodeGray8 } from '../project/mask-png';
import { getImage } from '../project/images';
import type { ProjectStore } from '../project/store';
import { resolveUserPath } from '../guarded-files';
import { emptyImportMessage, scanLayout } from './layout';
import { planImport } from './import-plan';
import { processItem, type ItemResult, type MaskResult, type WorkItem } from './import-read';

export interface ImportOptions {
  root: string;
  maskPattern?: string | null;
  controlsAsNegative?: boolean;
  /** Parallel file tasks (default 8). */
  concurrency?: number;
  /** Images and masks with more pixels are skipped from their header (DEFAULT_MAX_IMAGE_PIXELS). */
  maxPixels?: number;
}

const BATCH_SIZE = 400;
/** Marker hash of the empty ground truth given to controls with --controls-as-negative. */
const EMPTY_NEGATIVE_MASK = 'empty-negative';

export class DatasetFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetFolderError';
  }
}

/** Runs `task` over `items` with at most `limit` in flight, in order of start. */
async function pool<T>(
  items: T[],
  limit: number,
  task: (item: T, index: number) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  let next = 0;
  const runner = async () => {
    while (next < items.length) {
      if (signal.aborted) throw new CancelledError('import cancelled');
      const index = next++;
      await task(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, runner));
}

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * Checks the folder and resolves its real absolute path (a relative one against `projectDir`);
 * DatasetFolderError with one line if not.
 */
export async function resolveDatasetRoot(root: string, projectDir: string): Promise<string> {
  const absolute = resolveUserPath(root, projectDir);
  let stat;
  try {
    stat = await fsp.stat(absolute);
  } catch {
    throw new DatasetFolderError(`dataset folder not found: ${absolute}`);
  }
  if (!stat.isDirectory()) throw new DatasetFolderError(`not a folder: ${absolute}`);
  try {
    await fsp.access(absolute, fs.constants.R_OK | fs.constants.X_OK);
    await fsp.readdir(absolute);
  } catch {
    throw new DatasetFolderError(`dataset folder is not readable: ${absolute}`);
  }
  return fsp.realpath(absolute);
}

/**
 * DICOM SEGs as ground truth of the DICOM images they reference by SOP Instance UID; a SEG
 * whose reference matches no image of the dataset is an orphan. DICOM images that no SEG (and
 * no mask file) covers lose an earlier SEG's ground truth, as images whose mask file vanished.
 */
async function settleSegmentations(
  db: ProjectStore['db'],
  datasetId: number,
  segmentations: ItemResult[],
  awaiting: { imageId: number; item: WorkItem; previous?: ExistingImage }[],
  report: ImportReport,
  refresh: { groundTruthsUpdated: number },
): Promise<void> {
  const bySop = imagesBySopInstance(db, datasetId);
  const found = new Map<
    number,
    { mask: Uint8Array; sha256: string; rows: number; columns: number; relPath: string }
  >();
  for (const { segmentation, item } of segmentations) {
    if (!segmentation) continue;
    for (const [uid, mask] of segmentation.masks) {
      const imageId = bySop.get(uid);
      if (imageId === undefined) {
        report.orphanMasks++;
        report.warnings.push({
          path: item.relPath,
          message: `orphan DICOM SEG: it references SOP Instance UID ${uid}, which no imported image has`,
        });
      } else if (found.has(imageId)) {
        report.warnings.push({
          path: item.relPath,
          message: `a second DICOM SEG of the image of ${found.get(imageId)!.relPath}; the first one is used`,
        });
      } else {
        const { sha256, height: rows, width: columns } = segmentation;
        found.set(imageId, { mask, sha256, rows, columns, relPath: item.relPath });
      }
    }
  }
  const writes: {
    imageId: number;
    previous?: ExistingImage;
    mask: MaskResult;
  }[] = [];
  const clears: { imageId: number; item: WorkItem }[] = [];
  for (const { imageId, item, previous } of awaiting) {
    const segment = found.get(imageId);
    found.delete(imageId);
    if (!segment) {
      if (!item.control) report.imagesWithoutMask++;
      if (previous?.groundTruthSha256 && previous.groundTruthSha256 !== EMPTY_NEGATIVE_MASK)
        clears.push({ imageId, item });
      continue;
    }
    const image = getImage(db, imageId);
    if (image.width !== segment.columns || image.height !== segment.rows) {
      report.skipped.push({
        path: segment.relPath,
        reason: `SEG is ${segment.columns}x${segment.rows} but its image ${item.relPath} is ${image.width}x${image.height}; image imported without ground truth`,
      });
      if (!item.control) report.imagesWithoutMask++;
      continue;
    }
    report.pairs++;
    if (previous?.groundTruthSha256 === segment.sha256) continue;
    let foreground = 0;
    for (let i = 0; i < segment.mask.length; i++) if (segment.mask[i]) foreground++;
    const png = await encodeGray8(segment.mask, segment.columns, segment.rows);
    const { sha256, columns: width, rows: height } = segment;
    writes.push({ imageId, previous, mask: { png, width, height, foreground, sha256 } });
  }
  for (const segment of found.values()) {
    report.warnings.push({
      path: segment.relPath,
      message: 'its image has a mask file, which is the ground truth; the SEG is not used',
    });
  }
  db.transaction(() => {
    for (const write of writes) {
      setGroundTruth(
        db,
        write.imageId,
        write.mask,
        'import',
        write.previous?.groundTruthId ?? null,
      );
      if (write.previous) refresh.groundTruthsUpdated++;
    }
    for (const { imageId, item } of clears) {
      clearGroundTruth(db, imageId);
      report.warnings.push({
        path: item.relPath,
        message: 'its ground-truth SEG is gone; the earlier ground truth is kept in the history',
      });
    }
  })();
}

const noopReporter: JobReporter = {
  progress: () => undefined,
  signal: new AbortController().signal,
};

/** Imports or refreshes `options.root` into the project. */
export async function importDataset(
  store: ProjectStore,
  options: ImportOptions,
  reporter: JobReporter = noopReporter,
): Promise<ImportResult> {
  const started = performance.now();
  const root = await resolveDatasetRoot(options.root, store.dir);
  if (isInside(store.dir, root)) {
    throw new DatasetFolderError(
      `the project folder ${store.dir} is inside the dataset folder; choose a project folder elsewhere (nothing is written inside a dataset)`,
    );
  }
  const maskPattern = options.maskPattern ?? null;
  const controlsAsNegative = options.controlsAsNegative ?? false;
  reporter.progress({ phase: 'scanning', done: 0, total: null });
  const scan = await scanLayout(root);
  const plan = await planImport(root, scan.groups, maskPattern, scan.skipped);
  const db = store.db;
  const datasetId = db.transaction(() =>
    upsertDataset(db, { root, layout: scan.layout, maskPattern, controlsAsNegative }),
  )();
  const existing = new Map(imagesOfDataset(db, datasetId).map((row) => [row.relPath, row]));

  const report: ImportReport = {
    pairs: 0,
    imagesWithoutMask: 0,
    orphanMasks: plan.orphanMasks,
    skipped: [...plan.skipped],
    warnings: [],
    splits: { train: 0, test: 0, control: 0, unassigned: 0 },
  };
  const refresh = {
    added: 0,
    unchanged: 0,
    changed: 0,
    missing: 0,
    restored: 0,
    groundTruthsUpdated: 0,
  };
  const seenIds = new Set<number>();

  const total = plan.items.length;
  let done = 0;
  let pending: ItemResult[] = [];
  reporter.progress({ phase: 'importing', done: 0, total });

  const writeBatch = (batch: ItemResult[]) => {
    db.transaction(() => {
      for (const result of batch) writeResult(result);
    })();
  };

  const segmentations: ItemResult[] = [];
  const awaitingSegmentation: { imageId: number; item: WorkItem; previous?: ExistingImage }[] = [];

  const writeResult = (result: ItemResult) => {
    const { item } = result;
    report.skipped.push(...result.skipped);
    report.warnings.push(...result.warnings);
    if (result.segmentation) {
      segmentations.push(result);
      return;
    }
    const previous = existing.get(item.relPath);
    if (!result.facts) {
      // Unreadable now: an earlier import of it stays, flagged as changed.
      if (previous) {
        seenIds.add(previous.id);
        updateImageFile(db, previous.id, { status: 'changed' });
        refresh.changed++;
      }
      return;
    }
    let imageId: number;
    if (!previous) {
      imageId = insertImage(db, {
        datasetId,
        relPath: item.relPath,
        name: item.name,
        split: item.split,
        ...result.facts,
        reviewState: item.control && controlsAsNegative ? 'negative' : 'unreviewed',
      });
      refresh.added++;
    } else {
      imageId = previous.id;
      if (result.unchanged) {
        if (previous.status === 'missing') {
          updateImageFile(db, imageId, { status: 'present' });
          refresh.restored++;
        } else refresh.unchanged++;
      } else {
        updateImageFile(db, imageId, { facts: result.facts, status: 'changed' });
        refresh.changed++;
      }
    }
    seenIds.add(imageId);
    report.splits[item.split]++;
    if (result.dicom) saveDicomTags(db, imageId, result.dicom);

    const hadGroundTruth = previous?.groundTruthId != null;
    if (result.mask) {
      setGroundTruth(db, imageId, result.mask, 'import', previous?.groundTruthId ?? null);
      if (previous) refresh.groundTruthsUpdated++;
      report.pairs++;
    } else if (result.maskUnchanged) {
      report.pairs++;
    } else if (item.control && controlsAsNegative) {
      if (!hadGroundTruth && result.negativeMask) {
        setGroundTruth(db, imageId, {
          png: result.negativeMask,
          width: result.facts.width,
          height: result.facts.height,
          foreground: 0,
          sha256: EMPTY_NEGATIVE_MASK,
        });
      }
      if (previous?.reviewState === 'unreviewed') {
        db.prepare("UPDATE images SET review_state = 'negative' WHERE id = ?").run(imageId);
      }
    } else if (result.facts.format === 'dicom') {
      // Its ground truth may be a DICOM SEG anywhere in the dataset: settled once all are read.
      awaitingSegmentation.push({ imageId, item, previous });
    } else {
      if (!item.control) report.imagesWithoutMask++;
      if (previous?.groundTruthSha256 && previous.groundTruthSha256 !== EMPTY_NEGATIVE_MASK) {
        // The mask file vanished or no longer fits: no ground truth in force (history kept).
        clearGroundTruth(db, imageId);
        if (!item.maskPath) {
          report.warnings.push({
            path: item.relPath,
            message:
              'its ground-truth mask is gone; the earlier ground truth is kept in the history',
          });
        }
      }
    }
  };

  const finished = new Map<number, ItemResult>();
  let nextToWrite = 0;
  await pool(
    plan.items,
    options.concurrency ?? 8,
    async (item, index) => {
      const result = await processItem(
        item,
        root,
        existing.get(item.relPath),
        controlsAsNegative,
        options.maxPixels ?? DEFAULT_MAX_IMAGE_PIXELS,
      );
      // Results are written in the plan's (path) order, not as they finish: the order of writing
      // numbers the images, and training's splits and seeds follow those numbers.
      finished.set(index, result);
      while (finished.has(nextToWrite)) {
        pending.push(finished.get(nextToWrite)!);
        finished.delete(nextToWrite);
        nextToWrite++;
      }
      done++;
      if (pending.length >= BATCH_SIZE) {
        const batch = pending;
        pending = [];
        writeBatch(batch);
        const seconds = (performance.now() - started) / 1000;
        reporter.progress({
          done,
          detail: { imagesPerSecond: Math.round(done / Math.max(seconds, 1e-3)) },
        });
      }
    },
    reporter.signal,
  );
  writeBatch(pending);
  pending = [];
  await settleSegmentations(db, datasetId, segmentations, awaitingSegmentation, report, refresh);

  // An import that pairs nothing is almost always a layout or naming the importer did not expect.
  const controlsOnly = controlsAsNegative && plan.items.some((item) => item.control);
  if (report.pairs === 0 && !controlsOnly) {
    report.warnings.unshift({
      path: '.',
      message: emptyImportMessage(root, scan.groups, plan.items, maskPattern, {
        imported: report.imagesWithoutMask + report.splits.control,
        skipped: report.skipped.length,
      }),
    });
  }
  reporter.progress({ phase: 'refreshing', done, total });
  db.transaction(() => {
    for (const row of existing.values()) {
      if (!seenIds.has(row.id) && row.status !== 'missing') {
        updateImageFile(db, row.id, { status: 'missing' });
        refresh.missing++;
      }
    }
    saveDatasetReport(db, datasetId, report);
  })();
  store.setMeta('dataset_root', root);
  const seconds = (performance.now() - started) / 1000;
  reporter.progress({
    phase: 'done',
    done,
    total,
    detail: { imagesPerSecond: Math.round(done / Math.max(seconds, 1e-3)) },
  });
  return { datasetId, root, layout: scan.layout, report, refresh, seconds };
}
