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
import {
  DEFAULT_MAX_IMAGE_PIXELS,
  type ImportReport,
  type ImportResult,
} from '../../shared/dataset-schemas';
import type { Split } from '../../shared/contract-review';
import { CancelledError, type JobReporter } from '../job-reporter';
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
import {
  imagesBySopInstance,
  saveDicomTags,
  tagsOfFacts,
  type DicomTags,
} from '../project/dicom-tags';
import { setGroundTruth } from '../project/masks';
import { encodeGray8, isStorableMaskPng } from '../project/mask-png';
import { getImage } from '../project/images';
import type { ProjectStore } from '../project/store';
import { resolveUserPath } from '../guarded-files';
import {
  isDicom,
  isDicomFileName,
  probeDicom,
  probeDicomForImport,
} from '../formats/dicom/decoder';
import {
  findImageDecoder,
  maskReaderFor,
  maskReaderForName,
  MaskSizeMismatchError,
  type ReferencedMasks,
} from '../formats';
import { probeImage, probeImageFile, type ImageInfo } from './decode';
import { describeFsError, specialFileKind } from '../fs-errors';
import {
  emptyImportMessage,
  isImageFileName,
  listFiles,
  maskCandidates,
  scanLayout,
  type ImageGroup,
  type SkippedEntry,
} from './layout';

export interface ImportOptions {
  root: string;
  maskPattern?: string | null;
  controlsAsNegative?: boolean;
  /** Parallel file tasks (default 8). */
  concurrency?: number;
  /** Images and masks with more pixels are skipped from their header (DEFAULT_MAX_IMAGE_PIXELS). */
  maxPixels?: number;
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
  /** A DICOM file found among masks: read only if it is a SEG. */
  segmentationOnly: boolean;
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
  /** The DICOM tags the project keeps, for a DICOM image read now. */
  dicom: DicomTags | null;
  /** The file is a DICOM SEG: ground truth of the images it references, not an image. */
  segmentation: (ReferencedMasks & { sha256: string }) | null;
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

/**
 * Reads a file for hashing and probing: in memory when small, hashed as a stream when large.
 * Only regular files are read (a FIFO reached through a link would block the import forever).
 */
async function readAndHash(
  file: string,
): Promise<{ bytes: Buffer | null; sha256: string; size: number }> {
  const stat = await statFile(file);
  if (stat.isDirectory()) throw new Error('a link to a folder (not followed)');
  if (!stat.isFile()) throw new Error(`not a regular file (${specialFileKind(stat) ?? 'unknown'})`);
  const { size } = stat;
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
  if ((error as NodeJS.ErrnoException | null)?.code) return describeFsError(error);
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
  expected: ImageInfo,
  maxPixels: number,
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
    const reader = maskReaderFor(file, bytes);
    if (reader?.pairing !== 'name') throw new Error('not a mask format this import reads');
    // Sizes are compared from the header: a mask of another size is never decoded.
    decoded = await reader.read(bytes, { expected, maxPixels });
  } catch (error) {
    if (error instanceof MaskSizeMismatchError) {
      return {
        mask: null,
        skipped: {
          path: rel,
          reason: `mask is ${error.width}x${error.height} but its image is ${expected.width}x${expected.height}; image imported without ground truth`,
        },
        sha256,
      };
    }
    return { mask: null, skipped: { path: rel, reason: `mask: ${reasonOf(error)}` }, sha256 };
  }
  let png = bytes;
  const zeroOr255 = decoded.cleanValues && !decoded.oneValued;
  if (!(isStorableMaskPng(bytes) && zeroOr255))
    png = await encodeGray8(decoded.values, decoded.width, decoded.height);
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

/** Why an image of this size is not imported, or null when it fits the limit. */
function aboveLimit(info: ImageInfo, maxPixels: number): string | null {
  const pixels = info.width * info.height;
  if (pixels <= maxPixels) return null;
  return `image is ${info.width}x${info.height} (${(pixels / 1e6).toFixed(1)} megapixels), above the limit of ${maxPixels} pixels; raise it with --max-pixels if it is meant to be imported`;
}

async function processItem(
  item: WorkItem,
  root: string,
  existing: ExistingImage | undefined,
  controlsAsNegative: boolean,
  maxPixels: number,
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
    dicom: null,
    segmentation: null,
  };
  let info: ImageInfo;
  try {
    const read = await readAndHash(item.imagePath);
    const { sha256, size } = read;
    // DICOM files are parsed whole (header and pixel extents) even when large.
    const bytes =
      read.bytes ?? (isDicomFileName(item.name) ? await fsp.readFile(item.imagePath) : null);
    if (existing && existing.sha256 === sha256) {
      result.unchanged = true;
      info = existing;
    } else if (bytes && isDicom(bytes)) {
      const probe = probeDicom(bytes);
      if (probe.kind === 'segmentation') {
        // Paired by the images it references, not by name: the registry's reader unpacks it.
        const reader = maskReaderFor(item.name, bytes);
        if (reader?.pairing !== 'reference') throw new Error('no mask reader reads this SEG');
        result.segmentation = { ...reader.readAll(bytes), sha256 };
        return result;
      }
      if (item.segmentationOnly) throw new Error('a DICOM image in a mask folder (not a SEG)');
      // Nothing too large is decoded: the pixel limit is checked from the header first; then a
      // compressed frame is decoded once, so data that do not decode are skipped here.
      const checked = aboveLimit({ ...probe, channels: 1, format: 'dicom' }, maxPixels)
        ? probe
        : await probeDicomForImport(bytes);
      result.dicom = tagsOfFacts(probe.facts);
      if (checked.kind === 'image' && checked.note)
        result.warnings.push({ path: item.relPath, message: checked.note });
      info = { ...probe, channels: 1, format: 'dicom' };
    } else if (item.segmentationOnly) {
      throw new Error('not a DICOM file');
    } else {
      info = await probeFile(item.imagePath, bytes);
    }
    // From the header alone: nothing this large is ever decoded, here or later.
    const tooLarge = aboveLimit(info, maxPixels);
    if (tooLarge) {
      result.skipped.push({ path: item.relPath, reason: tooLarge });
      return result;
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
    const mask = await readMask(item.maskPath, root, info, maxPixels);
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

/** Bytes enough for every registered decoder to recognise its format. */
const SNIFF_BYTES = 4096;

/** A file without an extension whose first bytes a decoder recognises (DICOM's DICM preamble). */
async function isSniffedImage(file: string): Promise<boolean> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(file, 'r');
    const head = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(head, 0, SNIFF_BYTES, 0);
    return findImageDecoder(head.subarray(0, bytesRead)) !== null;
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}

/** An image file by its extension, or a file without one whose content a decoder recognises. */
async function isImportable(file: string): Promise<boolean> {
  if (isImageFileName(file)) return true;
  return path.extname(file) === '' && isSniffedImage(file);
}

/** Lists the work: image files with their mask file, and what is skipped or orphaned up front. */
async function planImport(
  root: string,
  groups: ImageGroup[],
  maskPattern: string | null,
  scanSkipped: SkippedEntry[],
) {
  const items: WorkItem[] = [];
  const skipped: { path: string; reason: string }[] = [];
  // A folder listed twice (as images and as masks, or by the scan) is reported once.
  const reported = new Set<string>();
  const report = (entries: SkippedEntry[]) => {
    for (const entry of entries) {
      const rel = toRel(root, entry.path);
      if (reported.has(rel)) continue;
      reported.add(rel);
      skipped.push({ path: rel, reason: entry.reason });
    }
  };
  report(scanSkipped);
  let orphanMasks = 0;
  const claimedMasks = new Set<string>();
  const maskFolders = new Map<string, Map<string, string>>();
  const masksOf = async (dir: string) => {
    let files = maskFolders.get(dir);
    if (!files) {
      const listing = await listFiles(dir, false);
      report(listing.skipped);
      files = new Map(listing.files.map((f) => [path.basename(f).toLowerCase(), f]));
      maskFolders.set(dir, files);
    }
    return files;
  };
  const seen = new Set<string>();
  for (const group of groups) {
    const listing = await listFiles(group.imagesDir, group.recursive);
    report(listing.skipped);
    const files = listing.files;
    const sameFolder = group.masksDir === group.imagesDir;
    // A nested folder of studies keeps each image's mask beside it, in its own folder.
    const maskDirOf = (file: string) =>
      sameFolder && group.recursive ? path.dirname(file) : group.masksDir;
    const importable = new Set<string>();
    for (const file of files) if (await isImportable(file)) importable.add(file);
    // In a flat folder, files that are some image's mask are not images themselves.
    const maskOfImage = new Map<string, string>();
    for (const file of importable) {
      const dir = maskDirOf(file);
      if (!dir) continue;
      const masks = await masksOf(dir);
      for (const candidate of maskCandidates(path.basename(file), maskPattern, !sameFolder)) {
        const match = masks.get(candidate.toLowerCase());
        if (match && match !== file) {
          maskOfImage.set(file, match);
          break;
        }
      }
    }
    const masksInFolder = sameFolder ? new Set(maskOfImage.values()) : new Set<string>();
    for (const file of files) {
      if (seen.has(file)) continue;
      seen.add(file);
      if (masksInFolder.has(file)) continue;
      const relPath = toRel(root, file);
      if (!importable.has(file)) {
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
        segmentationOnly: false,
      });
    }
  }
  for (const [dir, files] of maskFolders) {
    // Flat or nested folder: unclaimed files are images.
    if (groups.some((g) => g.imagesDir === dir || (g.recursive && g.masksDir === g.imagesDir)))
      continue;
    for (const file of files.values()) {
      if (claimedMasks.has(file)) continue;
      const relPath = toRel(root, file);
      // A file among the masks that pairs by reference (a DICOM SEG) is ground truth by the image
      // it references; one without an extension is read if its bytes are an image's or a SEG's.
      const byReference = maskReaderForName(file)?.pairing === 'reference';
      if (byReference || (path.extname(file) === '' && (await isSniffedImage(file)))) {
        items.push({
          imagePath: file,
          relPath,
          name: path.basename(file),
          split: 'unassigned',
          control: false,
          maskPath: null,
          maskRelPath: null,
          segmentationOnly: true,
        });
      } else if (isImageFileName(file)) orphanMasks++;
      else skipped.push({ path: relPath, reason: 'not an image file' });
    }
  }
  return { items, skipped, orphanMasks };
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
