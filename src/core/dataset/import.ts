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
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ImportReport, ImportResult } from '../../shared/dataset-schemas';
import type { Split } from '../../shared/contract-review';
import { CancelledError, type JobReporter } from '../jobs';
import {
  clearGroundTruth,
  imagesOfDataset,
  insertImage,
  saveDatasetReport,
  updateImageFile,
  upsertDataset,
  type ExistingImage,
  type ImageFileFacts,
} from '../project/datasets';
import { setGroundTruth } from '../project/masks';
import { decodeBinaryMask, encodeGray8, isStorableMaskPng } from '../project/mask-png';
import type { ProjectStore } from '../project/store';
import { probeImage, probeImageFile, type ImageInfo } from './decode';
import { isImageFileName, listFiles, maskCandidates, scanLayout, type ImageGroup } from './layout';

export interface ImportOptions {
  root: string;
  maskPattern?: string | null;
  controlsAsNegative?: boolean;
  /** Parallel file tasks (default 8). */
  concurrency?: number;
}

/** Files above this size are hashed as a stream and probed from disk instead of memory. */
const STREAM_THRESHOLD = 16 * 1024 * 1024;
const BATCH_SIZE = 400;
/** Marker hash of the empty ground truth given to controls with --controls-as-negative. */
const EMPTY_NEGATIVE_MASK = 'empty-negative';

export class DatasetFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetFolderError';
  }
}

interface WorkItem {
  imagePath: string;
  relPath: string;
  name: string;
  split: Split;
  control: boolean;
  maskPath: string | null;
  maskRelPath: string | null;
}

interface MaskResult {
  png: Buffer;
  width: number;
  height: number;
  foreground: number;
  sha256: string;
}

interface ItemResult {
  item: WorkItem;
  facts: ImageFileFacts | null;
  /** Hash unchanged since the last import: facts were not re-read. */
  unchanged: boolean;
  mask: MaskResult | null;
  /** The mask file is the same as the ground truth in force. */
  maskUnchanged: boolean;
  /** Empty ground truth for a control with --controls-as-negative. */
  negativeMask: Buffer | null;
  skipped: { path: string; reason: string }[];
  warnings: { path: string; message: string }[];
}

function toRel(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

async function hashStream(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

// The callback forms: fs/promises' FileHandle path costs about twice the CPU per small file.
const statFile = promisify(fs.stat);
const readWholeFile = promisify(fs.readFile);

/** Reads a file for hashing and probing: in memory when small, hashed as a stream when large. */
async function readAndHash(
  file: string,
): Promise<{ bytes: Buffer | null; sha256: string; size: number }> {
  const { size } = await statFile(file);
  if (size === 0) throw new Error('empty file (0 bytes)');
  if (size > STREAM_THRESHOLD) return { bytes: null, sha256: await hashStream(file), size };
  const bytes = await readWholeFile(file);
  if (bytes.length === 0) throw new Error('empty file (0 bytes)');
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
}

function probeFile(file: string, bytes: Buffer | null): Promise<ImageInfo> {
  return bytes ? probeImage(bytes) : probeImageFile(file);
}

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (
    /unsupported image format|Input buffer contains unsupported|Input file contains unsupported/i.test(
      message,
    )
  ) {
    return 'not a readable image (unsupported or corrupt data)';
  }
  return message.replace(/\s+/g, ' ').trim();
}

/** A stored mask: the file itself when it is already an 8-bit gray 0/255 PNG, else re-encoded. */
async function readMask(
  file: string,
  root: string,
  expected: ImageInfo | null,
): Promise<{
  mask: MaskResult | null;
  skipped?: { path: string; reason: string };
  warning?: { path: string; message: string };
  sha256?: string;
}> {
  const rel = toRel(root, file);
  let bytes: Buffer;
  let sha256: string;
  try {
    const read = await readAndHash(file);
    bytes = read.bytes ?? (await fsp.readFile(file));
    sha256 = read.sha256;
  } catch (error) {
    return { mask: null, skipped: { path: rel, reason: `mask: ${reasonOf(error)}` } };
  }
  let decoded;
  try {
    decoded = await decodeBinaryMask(bytes);
  } catch (error) {
    return { mask: null, skipped: { path: rel, reason: `mask: ${reasonOf(error)}` }, sha256 };
  }
  if (expected && (decoded.width !== expected.width || decoded.height !== expected.height)) {
    return {
      mask: null,
      skipped: {
        path: rel,
        reason: `mask is ${decoded.width}x${decoded.height} but its image is ${expected.width}x${expected.height}; image imported without ground truth`,
      },
      sha256,
    };
  }
  let png = bytes;
  const zeroOr255 = decoded.cleanValues && !decoded.oneValued;
  if (!(isStorableMaskPng(bytes) && zeroOr255))
    png = await encodeGray8(decoded.data, decoded.width, decoded.height);
  return {
    mask: {
      png,
      width: decoded.width,
      height: decoded.height,
      foreground: decoded.foreground,
      sha256,
    },
    warning: decoded.cleanValues
      ? undefined
      : {
          path: rel,
          message: 'mask has values other than {0,1} or {0,255}; binarised with > 0 as foreground',
        },
    sha256,
  };
}

async function processItem(
  item: WorkItem,
  root: string,
  existing: ExistingImage | undefined,
  controlsAsNegative: boolean,
): Promise<ItemResult> {
  const result: ItemResult = {
    item,
    facts: null,
    unchanged: false,
    mask: null,
    maskUnchanged: false,
    negativeMask: null,
    skipped: [],
    warnings: [],
  };
  let info: ImageInfo;
  try {
    const { bytes, sha256, size } = await readAndHash(item.imagePath);
    if (existing && existing.sha256 === sha256) {
      result.unchanged = true;
      info = existing;
    } else {
      info = await probeFile(item.imagePath, bytes);
    }
    const { width, height, bitDepth, channels, format } = info;
    result.facts = { width, height, bitDepth, channels, format, fileSize: size, sha256 };
  } catch (error) {
    result.skipped.push({ path: item.relPath, reason: reasonOf(error) });
    return result;
  }
  if (item.maskPath) {
    // The mask file is the ground truth in force and still fits the image: nothing to decode.
    if (existing?.groundTruthSha256) {
      const read = await readAndHash(item.maskPath).catch(() => null);
      const sameSize = existing.width === info.width && existing.height === info.height;
      if (read?.sha256 === existing.groundTruthSha256 && sameSize) {
        result.maskUnchanged = true;
        return result;
      }
    }
    const mask = await readMask(item.maskPath, root, info);
    if (mask.skipped) result.skipped.push(mask.skipped);
    if (mask.warning) result.warnings.push(mask.warning);
    result.mask = mask.mask;
  } else if (item.control && controlsAsNegative && !existing?.groundTruthId) {
    result.negativeMask = await emptyMask(info.width, info.height);
  }
  return result;
}

const emptyMasks = new Map<string, Promise<Buffer>>();

/** The empty 0/255 PNG of a size (controls of a dataset share a few sizes: encode each once). */
function emptyMask(width: number, height: number): Promise<Buffer> {
  const key = `${width}x${height}`;
  let png = emptyMasks.get(key);
  if (!png) {
    png = encodeGray8(new Uint8Array(width * height), width, height);
    emptyMasks.set(key, png);
  }
  return png;
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

/** Checks the folder and resolves its real absolute path; DatasetFolderError with one line if not. */
export async function resolveDatasetRoot(root: string): Promise<string> {
  const absolute = path.resolve(root);
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

/** Lists the work: image files with their mask file, and what is skipped or orphaned up front. */
async function planImport(root: string, groups: ImageGroup[], maskPattern: string | null) {
  const items: WorkItem[] = [];
  const skipped: { path: string; reason: string }[] = [];
  let orphanMasks = 0;
  const claimedMasks = new Set<string>();
  const maskFolders = new Map<string, Map<string, string>>();
  const masksOf = async (dir: string) => {
    let files = maskFolders.get(dir);
    if (!files) {
      files = new Map(
        (await listFiles(dir, false)).map((f) => [path.basename(f).toLowerCase(), f]),
      );
      maskFolders.set(dir, files);
    }
    return files;
  };
  const seen = new Set<string>();
  for (const group of groups) {
    const files = await listFiles(group.imagesDir, group.recursive);
    const sameFolder = group.masksDir === group.imagesDir;
    const masks = group.masksDir ? await masksOf(group.masksDir) : null;
    // In a flat folder, files that are some image's mask are not images themselves.
    const maskOfImage = new Map<string, string>();
    if (masks) {
      for (const file of files) {
        if (!isImageFileName(file)) continue;
        for (const candidate of maskCandidates(path.basename(file), maskPattern, !sameFolder)) {
          const match = masks.get(candidate.toLowerCase());
          if (match && match !== file) {
            maskOfImage.set(file, match);
            break;
          }
        }
      }
    }
    const masksInFolder = sameFolder ? new Set(maskOfImage.values()) : new Set<string>();
    for (const file of files) {
      if (seen.has(file)) continue;
      seen.add(file);
      if (masksInFolder.has(file)) continue;
      const relPath = toRel(root, file);
      if (!isImageFileName(file)) {
        skipped.push({ path: relPath, reason: 'not an image file' });
        continue;
      }
      const maskPath = maskOfImage.get(file) ?? null;
      if (maskPath) claimedMasks.add(maskPath);
      items.push({
        imagePath: file,
        relPath,
        name: path.basename(file),
        split: group.split,
        control: group.control,
        maskPath,
        maskRelPath: maskPath ? toRel(root, maskPath) : null,
      });
    }
  }
  for (const [dir, files] of maskFolders) {
    if (groups.some((g) => g.imagesDir === dir)) continue; // flat folder: unclaimed files are images
    for (const file of files.values()) {
      if (claimedMasks.has(file)) continue;
      if (isImageFileName(file)) orphanMasks++;
      else skipped.push({ path: toRel(root, file), reason: 'not an image file' });
    }
  }
  return { items, skipped, orphanMasks };
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
  const root = await resolveDatasetRoot(options.root);
  if (isInside(store.dir, root)) {
    throw new DatasetFolderError(
      `the project folder ${store.dir} is inside the dataset folder; choose a project folder elsewhere (nothing is written inside a dataset)`,
    );
  }
  const maskPattern = options.maskPattern ?? null;
  const controlsAsNegative = options.controlsAsNegative ?? false;
  reporter.progress({ phase: 'scanning', done: 0, total: null });
  const scan = await scanLayout(root);
  const plan = await planImport(root, scan.groups, maskPattern);
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

  const writeResult = (result: ItemResult) => {
    const { item } = result;
    report.skipped.push(...result.skipped);
    report.warnings.push(...result.warnings);
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

  await pool(
    plan.items,
    options.concurrency ?? 8,
    async (item) => {
      const result = await processItem(item, root, existing.get(item.relPath), controlsAsNegative);
      pending.push(result);
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
