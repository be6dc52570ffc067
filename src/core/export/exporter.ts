/**
 * Batch export of a project's masks to disk: plan (which revision of which image goes to which
 * file, refusals up front), then a small pool of tasks that decode, measure, encode (sharp, off the
 * event loop) and write each file under a temporary name before renaming it into place. A manifest
 * (`manifest.csv`) records every written mask with its SHA-256. What files a format writes, and
 * how, is the format's own (../formats): this file names none.
 *
 * Safety rules: nothing is replaced without `overwrite` (refused before anything is written, with
 * the first conflicts listed); an output folder inside a dataset folder is refused; names come from
 * the database and are sanitised (see ./names); a full disk or an unwritable folder stops the
 * export with a message that says what was written (and the manifest of those files, if it fits).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import {
  exportInputSchema,
  type ExportInput,
  type ExportOptions,
  type ExportPlan,
  type ExportResult,
  type ExportSkip,
} from '../../shared/export-schemas';
import { maskMetrics } from '../../shared/metrics';
import { readGray8 } from '../dataset/decode';
import {
  exportFormatOf,
  imageDecoderFor,
  type ExportFormatDefinition,
  type ExportMask,
  type ExportRecord,
  type PlannedFile,
} from '../formats';
import { segmentLabelRgb } from '../formats/dicom/seg-export';
import { decodeGray8Png } from '../formats/png';
import { readRegularFile } from '../fs-errors';
import { CancelledError, type JobReporter } from '../job-reporter';
import { listDatasets } from '../project/datasets';
import { activeVersion, readCard } from '../ml/versions';
import { dicomTagsOf } from '../project/dicom-tags';
import { readSegmentLabel } from '../project/export-settings';
import { imageAbsolutePath, queryImages, type ImageRecord } from '../project/images';
import { getRevision, getRevisionPng, latestPrediction, type MaskRevision } from '../project/masks';
import { decodeBinaryMask, decodeGray8 } from '../project/mask-png';
import { activeModel } from '../project/review';
import type { ProjectStore } from '../project/store';
import { assertOrdinaryOutput, makeFolders, resolveUserPath } from '../guarded-files';
import { MANIFEST_FILE, manifestCsv, type ManifestRow } from './manifest';
import {
  imageFileOf,
  isInside,
  qataNames,
  resolveInside,
  sanitiseSegment,
  type QataNames,
} from '../formats/names';

export { COCO_FILE } from '../formats/coco';
/** Parallel tasks: enough to keep libuv's threads busy with sharp on 2 cores, few enough to stay responsive. */
const DEFAULT_CONCURRENCY = 4;
const LISTED_CONFLICTS = 10;

/** Refused before anything is written; `code` maps to the contract's ApiError codes. */
export class ExportRefusedError extends Error {
  constructor(
    readonly code: 'bad-request' | 'conflict',
    message: string,
  ) {
    super(message);
    this.name = 'ExportRefusedError';
  }
}

/** Stopped by a write failure after some files were written (listed in `written`). */
export class ExportStoppedError extends Error {
  constructor(
    message: string,
    readonly written: string[],
  ) {
    super(message);
    this.name = 'ExportStoppedError';
  }
}

/** The file operations an export makes (tests replace them to simulate a full disk). */
export interface ExportIo {
  /** Creates `file` (never replaces one) and makes its bytes durable before resolving. */
  writeFile(file: string, data: Uint8Array | string): Promise<void>;
  /**
   * Moves a finished temporary file to its name. Without `replace` an existing file there is
   * never replaced: the move fails with EEXIST.
   */
  rename(from: string, to: string, replace?: boolean): Promise<void>;
  mkdir(dir: string): Promise<void>;
  unlink(file: string): Promise<void>;
  /** Makes the renames into `dir` durable, where the platform can. */
  syncDirectory(dir: string): Promise<void>;
}

/**
 * Writes a new file and fsyncs it before resolving, so a rename that follows can never publish
 * an empty or partial file after a power cut. Async: the write and the fsync run on libuv's
 * thread pool, not the host's event loop.
 */
export async function writeFileDurably(file: string, data: Uint8Array | string): Promise<void> {
  const handle = await fsp.open(file, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Errors of a directory fsync that mean "this file system cannot", not "the data is at risk". */
const DIRECTORY_SYNC_UNSUPPORTED = new Set(['EINVAL', 'EISDIR', 'EPERM', 'EBADF', 'ENOTSUP']);

/** fsyncs a directory so the renames into it survive a power cut (POSIX; Windows cannot). */
export async function syncDirectoryDurably(dir: string): Promise<void> {
  // Windows cannot open a folder for fsync; NTFS journals its metadata itself.
  if (process.platform === 'win32') return;
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch (error) {
    if (!DIRECTORY_SYNC_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
  } finally {
    await handle?.close();
  }
}

/** link(2) is refused by file systems without hard links (FAT, some network and FUSE mounts). */
const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK', 'EXDEV']);

/**
 * Gives `from` the name `to` unless a file has that name: link(2) fails on an existing name, so
 * there is no window in which a check passes and a rename then replaces a newcomer. Where links
 * are not supported, an exclusive copy (still never replacing) made durable before it counts.
 */
export async function moveWithoutReplacing(from: string, to: string): Promise<void> {
  try {
    await fsp.link(from, to);
  } catch (error) {
    if (!LINK_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    await fsp.copyFile(from, to, fs.constants.COPYFILE_EXCL);
    const handle = await fsp.open(to, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  await fsp.unlink(from);
}

export const nodeIo: ExportIo = {
  writeFile: writeFileDurably,
  rename: (from, to, replace) => (replace ? fsp.rename(from, to) : moveWithoutReplacing(from, to)),
  // One level at a time: Node's recursive mkdir loops forever where a parent answers ENOENT (/proc).
  mkdir: (dir) => makeFolders(dir),
  unlink: (file) => fsp.unlink(file),
  syncDirectory: syncDirectoryDurably,
};

export interface PlanItem {
  image: ImageRecord;
  names: QataNames;
  revision: MaskRevision;
  /** The format's files of this image (none for a format that writes one file for all). */
  files: PlannedFile[];
  /** With copyImages. */
  imageFile: string | null;
}

export interface PlannedExport {
  out: string;
  options: ExportOptions;
  model: string | null;
  items: PlanItem[];
  /** The format's files written once at the end. */
  datasetFiles: PlannedFile[];
  skipped: ExportSkip[];
  conflicts: string[];
}

// ---------------------------------------------------------------------------------------------
// Plan

/** The real path of `file`, resolving the part that exists (the rest may not exist yet). */
async function realPathOfPossiblyMissing(file: string): Promise<string> {
  const absolute = path.resolve(file);
  const missing: string[] = [];
  let existing = absolute;
  for (;;) {
    try {
      return path.join(await fsp.realpath(existing), ...missing.reverse());
    } catch {
      const parent = path.dirname(existing);
      if (parent === existing) return absolute;
      missing.push(path.basename(existing));
      existing = parent;
    }
  }
}

async function pool<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0;
  const runner = async () => {
    while (next < items.length) {
      if (signal?.aborted) throw new CancelledError('export cancelled');
      const index = next++;
      await task(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, runner));
}

function chooseRevision(
  store: ProjectStore,
  image: ImageRecord,
  options: ExportOptions,
  model: string | null,
): { revisionId: number } | { reason: string } {
  const prediction = () =>
    model ? (latestPrediction(store.db, image.id, model)?.id ?? null) : null;
  switch (options.source) {
    case 'ground-truth':
      return image.groundTruthId !== null
        ? { revisionId: image.groundTruthId }
        : { reason: 'no ground truth' };
    case 'corrected':
      return image.correctionHeadId !== null
        ? { revisionId: image.correctionHeadId }
        : { reason: 'no correction' };
    case 'predicted': {
      const id = prediction();
      return id !== null ? { revisionId: id } : { reason: `no prediction of model ${model}` };
    }
    case 'best': {
      const id = image.correctionHeadId ?? image.groundTruthId ?? prediction();
      return id !== null
        ? { revisionId: id }
        : { reason: 'no correction, ground truth or prediction' };
    }
  }
}

/**
 * Refuses an output folder that is, is inside, or contains a dataset folder or the project
 * folder (compared by real path, so symlinks cannot hide the overlap): an export writes only
 * files of its own, whatever the format and whether or not it may overwrite.
 */
export async function assertOutsideOwnData(
  out: string,
  datasetRoots: readonly string[],
  projectDir: string,
): Promise<void> {
  const realOut = await realPathOfPossiblyMissing(out);
  for (const root of datasetRoots) {
    const realRoot = await realPathOfPossiblyMissing(root);
    if (isInside(realOut, realRoot)) {
      throw new ExportRefusedError(
        'bad-request',
        `the output folder ${out} is inside the dataset folder ${root}; choose a folder outside it (an export never writes into a dataset)`,
      );
    }
    if (isInside(realRoot, realOut)) {
      throw new ExportRefusedError(
        'bad-request',
        `the output folder ${out} contains the dataset folder ${root}; choose a folder that holds no dataset (an export never writes into a dataset)`,
      );
    }
  }
  const realProject = await realPathOfPossiblyMissing(projectDir);
  if (isInside(realProject, realOut) || isInside(realOut, realProject)) {
    throw new ExportRefusedError(
      'bad-request',
      `the output folder ${out} overlaps the project folder ${projectDir}; choose another folder`,
    );
  }
}

/** Decides every output file and checks the safety rules; writes nothing. */
export async function planExport(store: ProjectStore, input: ExportInput): Promise<PlannedExport> {
  const options = exportInputSchema.parse(input);
  const out = resolveUserPath(options.out, store.dir);
  try {
    assertOrdinaryOutput(out);
  } catch (error) {
    throw new ExportRefusedError('bad-request', (error as Error).message);
  }
  const db = store.db;

  const model = options.model ?? activeModel(store);
  if (options.source === 'predicted') {
    if (!model) {
      throw new ExportRefusedError(
        'bad-request',
        'no model version: pass --model VERSION or make a model active',
      );
    }
    const any = db
      .prepare(
        "SELECT 1 FROM mask_revisions WHERE source = 'prediction' AND model_version = ? LIMIT 1",
      )
      .get(model);
    if (!any) {
      throw new ExportRefusedError(
        'bad-request',
        `model version ${model} has no predictions in this project`,
      );
    }
  }

  const datasets = listDatasets(db);
  await assertOutsideOwnData(
    out,
    datasets.map((dataset) => dataset.root),
    store.dir,
  );

  const images = queryImages(db, { states: options.states, splits: options.splits });
  // Several datasets: each gets its own top folder so their QaTa folders cannot mix.
  const datasetIds = [...new Set(images.map((image) => image.datasetId))];
  const prefixes = new Map<number, string[]>();
  if (datasetIds.length > 1) {
    const used = new Set<string>();
    for (const dataset of datasets.filter((d) => datasetIds.includes(d.id))) {
      let name = sanitiseSegment(path.basename(dataset.root) || `dataset-${dataset.id}`);
      if (used.has(name.toLowerCase())) name = `${name}-${dataset.id}`;
      used.add(name.toLowerCase());
      prefixes.set(dataset.id, [name]);
    }
  }

  const format = exportFormatOf(options.format);
  const items: PlanItem[] = [];
  const skipped: ExportSkip[] = [];
  for (const [index, image] of images.entries()) {
    // Tens of thousands of rows: give the host's event loop a turn now and then.
    if (index % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
    const chosen = chooseRevision(store, image, options, model);
    if ('reason' in chosen) {
      skipped.push({ image: image.relPath, reason: chosen.reason });
      continue;
    }
    const names = qataNames(image.relPath, prefixes.get(image.datasetId));
    items.push({
      image,
      names,
      revision: getRevision(db, chosen.revisionId),
      files: format.imageFiles({ image, names, options }),
      imageFile: options.copyImages ? imageFileOf(names) : null,
    });
  }
  const datasetFiles = format.datasetFiles?.(options) ?? [];

  // Two images must not share a file (compared case-insensitively, as macOS and Windows do).
  const targets = new Map<string, string>();
  const collisions: string[] = [];
  const claim = (file: string, owner: string) => {
    const key = file.toLowerCase();
    const previous = targets.get(key);
    if (previous !== undefined) collisions.push(`${previous} and ${owner} both export to ${file}`);
    else targets.set(key, owner);
  };
  claim(MANIFEST_FILE, 'the manifest');
  for (const { file } of datasetFiles) claim(file, `the ${format.label} file`);
  for (const item of items) {
    for (const { file } of item.files) claim(file, item.image.relPath);
    if (item.imageFile) claim(item.imageFile, item.image.relPath);
  }
  if (collisions.length > 0) {
    throw new ExportRefusedError(
      'conflict',
      `${collisions.length} output name(s) collide: ${collisions.slice(0, 5).join('; ')}`,
    );
  }

  // Existing files: a conflict without overwrite; a folder where a file goes is always one.
  const files = [
    MANIFEST_FILE,
    ...datasetFiles.map(({ file }) => file),
    ...items.flatMap((item) => [
      ...(item.imageFile ? [item.imageFile] : []),
      ...item.files.map(({ file }) => file),
    ]),
  ];
  const conflicts: string[] = [];
  const folders: string[] = [];
  await pool(files, 16, async (file) => {
    try {
      const stat = await fsp.lstat(resolveInside(out, file));
      if (stat.isDirectory()) folders.push(file);
      else conflicts.push(file);
    } catch {
      // Absent: the normal case.
    }
  });
  if (folders.length > 0) {
    throw new ExportRefusedError(
      'conflict',
      `folders stand where files go: ${folders.sort().slice(0, LISTED_CONFLICTS).join(', ')}`,
    );
  }
  conflicts.sort();
  return { out, options, model, items, datasetFiles, skipped, conflicts };
}

export function planSummary(plan: PlannedExport): ExportPlan {
  return {
    out: plan.out,
    masks: plan.items.length,
    skipped: plan.skipped,
    conflicts: plan.conflicts.slice(0, LISTED_CONFLICTS),
    conflictCount: plan.conflicts.length,
    model: plan.model,
  };
}

/** Refuses a plan that would replace files without `overwrite`, listing the first ones. */
export function assertNoConflicts(plan: PlannedExport): void {
  if (plan.options.overwrite || plan.conflicts.length === 0) return;
  const listed = plan.conflicts.slice(0, LISTED_CONFLICTS).join(', ');
  const more =
    plan.conflicts.length > LISTED_CONFLICTS
      ? ` and ${plan.conflicts.length - LISTED_CONFLICTS} more`
      : '';
  throw new ExportRefusedError(
    'conflict',
    `${plan.conflicts.length} file(s) already exist in ${plan.out}: ${listed}${more}; nothing was written (pass --overwrite to replace them)`,
  );
}

// ---------------------------------------------------------------------------------------------
// Pixels

/** Raw 0..255 values of a stored revision PNG (fast path for the project's own 8-bit gray PNGs). */
async function storedGray(
  png: Buffer,
): Promise<{ data: Uint8Array; width: number; height: number }> {
  return decodeGray8Png(png) ?? (await decodeGray8(png));
}

interface Rendered {
  /** Bytes of the format's files of the image, in the order planned. */
  data: (Uint8Array | string)[];
  record: unknown;
  mask: ExportMask;
  dice: number | null;
  imageBytes: Buffer | null;
}

/** What the formats are told of the project's settings (they never read the project). */
interface FormatSettings {
  segmentLabel: { name: string; colour: [number, number, number] };
}

/** The train/validation hold-out of the active model's card, or null (nnU-Net's fold). */
function activeHoldOut(store: ProjectStore): { valFraction: number; seed: number } | null {
  const active = activeVersion(store);
  const held = active ? readCard(store, active)?.hyperParameters : null;
  return held ? { valFraction: held.valFraction, seed: held.seed } : null;
}

/** Millimetres between pixel centres recorded at import (DICOM images), or null. */
function recordedPixelSpacing(store: ProjectStore, imageId: number): [number, number] | null {
  const tags = dicomTagsOf(store.db, imageId);
  return tags?.rowSpacing && tags.columnSpacing ? [tags.rowSpacing, tags.columnSpacing] : null;
}

async function render(
  store: ProjectStore,
  format: ExportFormatDefinition,
  item: PlanItem,
  options: ExportOptions,
  model: string | null,
  settings: FormatSettings,
): Promise<Rendered | { reason: string }> {
  const db = store.db;
  const { revision, image } = item;
  let binary: Uint8Array;
  let values: Uint8Array;
  let width: number;
  let height: number;
  if (revision.source === 'prediction') {
    const gray = await storedGray(getRevisionPng(db, revision.id));
    ({ width, height } = gray);
    values = gray.data;
    const cut = options.threshold * 255;
    binary = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) binary[i] = values[i] > 0 && values[i] >= cut ? 255 : 0;
  } else {
    const mask = await decodeBinaryMask(getRevisionPng(db, revision.id));
    ({ width, height } = mask);
    binary = values = mask.data;
  }
  if (image.reviewState === 'negative') {
    // A reviewer ruled the image free of lesions: no export writes one, whatever the source.
    binary = new Uint8Array(binary.length);
    values = revision.source === 'prediction' ? new Uint8Array(values.length) : binary;
  }
  let foreground = 0;
  for (let i = 0; i < binary.length; i++) if (binary[i] !== 0) foreground++;

  let dice: number | null = null;
  if (image.groundTruthId !== null) {
    if (image.groundTruthId === revision.id) dice = 1;
    else {
      const truth = await decodeBinaryMask(getRevisionPng(db, image.groundTruthId));
      if (truth.data.length === binary.length) dice = maskMetrics(binary, truth.data).dice;
    }
  }

  let imageBytes: Buffer | null = null;
  if (item.imageFile) {
    try {
      imageBytes = await readRegularFile(imageAbsolutePath(image));
    } catch (error) {
      return { reason: `image file unreadable: ${describeWriteError(error)}` };
    }
  }

  const mask: ExportMask = { binary, values, width, height, foreground };
  const rendered = await format.render({
    segmentLabel: settings.segmentLabel,
    recordedPixelSpacing: recordedPixelSpacing(store, image.id),
    image,
    names: item.names,
    options,
    revision,
    model,
    files: item.files,
    mask,
    readImageGray8: () => readGray8(imageAbsolutePath(image)),
    readImage: async (depth) => {
      const bytes = await readRegularFile(imageAbsolutePath(image));
      return imageDecoderFor(bytes).decode(bytes, { depth });
    },
    readImageFile: () => readRegularFile(imageAbsolutePath(image)),
  });
  if ('reason' in rendered) return rendered;
  if (rendered.data.length !== item.files.length) {
    throw new Error(
      `export format ${format.id} rendered ${rendered.data.length} file(s) for ${item.files.length} planned`,
    );
  }
  return { data: rendered.data, record: rendered.record, mask, dice, imageBytes };
}

// ---------------------------------------------------------------------------------------------
// Writing

const WRITE_FAILURES: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'a file stands where a folder is needed',
  EEXIST: 'a file stands where a folder is needed',
  EISDIR: 'a folder stands where a file goes',
  EMFILE: 'too many open files',
  EIO: 'an input/output error',
};

function describeWriteError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const known = code ? WRITE_FAILURES[code] : undefined;
  if (known) return `${known} (${code})`;
  return error instanceof Error ? error.message : String(error);
}

let temporaryCounter = 0;

/** A file appeared at an output name after the export was planned (and was left alone). */
class LateConflictError extends Error {
  constructor(file: string) {
    super(
      `a file appeared at ${file} after the export was planned; it was not replaced (pass --overwrite to replace files)`,
    );
    this.name = 'LateConflictError';
  }
}

/**
 * Writes `data` durably to a temporary name beside `file`, then moves it into place: a reader
 * (or a power cut) sees the old state or the whole new file. Without `replace`, a file that
 * exists at `file` by then is left alone (LateConflictError). The folder's fsync comes later,
 * once per folder (see runExport).
 */
async function writeAtomic(
  io: ExportIo,
  file: string,
  data: Uint8Array | string,
  replace: boolean,
): Promise<void> {
  temporaryCounter = (temporaryCounter + 1) % 1_000_000_000;
  const temporary = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}-${temporaryCounter}.tmp`,
  );
  try {
    await io.writeFile(temporary, data);
    await io.rename(temporary, file, replace);
  } catch (error) {
    await io.unlink(temporary).catch(() => undefined);
    if (!replace && (error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new LateConflictError(file);
    }
    throw error;
  }
}

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

const noopReporter: JobReporter = {
  progress: () => undefined,
  signal: new AbortController().signal,
};

export interface RunOptions {
  io?: ExportIo;
  concurrency?: number;
}

/** Runs a plan (call `assertNoConflicts` first). Resolves with what was written. */
export async function runExport(
  store: ProjectStore,
  plan: PlannedExport,
  reporter: JobReporter = noopReporter,
  runOptions: RunOptions = {},
): Promise<ExportResult> {
  assertNoConflicts(plan);
  const io = runOptions.io ?? nodeIo;
  const { out, options, items, datasetFiles } = plan;
  const format = exportFormatOf(options.format);
  const settings: FormatSettings = { segmentLabel: segmentLabelRgb(readSegmentLabel(store)) };
  // The manifest's mask_file of an image: its own mask file, else the dataset file holding it.
  const datasetMaskFile = datasetFiles.find((file) => file.role === 'mask')?.file ?? null;
  const started = performance.now();
  const total = items.length;
  reporter.progress({ phase: 'writing', done: 0, total, detail: { masksPerSecond: 0 } });

  const rows: { imageId: number; row: ManifestRow }[] = [];
  const written: string[] = [];
  const skipped = [...plan.skipped];
  const records: ExportRecord<unknown>[] = [];
  const folders = new Map<string, Promise<void>>();
  /** Folders below OUT that received an entry (a renamed file or a new sub-folder). */
  const filled = new Set<string>();
  let failure: { error: unknown; file: string } | null = null;
  let done = 0;

  const ensureFolder = (file: string) => {
    const dir = path.dirname(file);
    let made = folders.get(dir);
    if (!made) {
      made = io.mkdir(dir);
      folders.set(dir, made);
    }
    return made;
  };
  const writeOutput = async (relative: string, data: Uint8Array | string) => {
    const file = resolveInside(out, relative);
    try {
      await ensureFolder(file);
      await writeAtomic(io, file, data, options.overwrite);
    } catch (error) {
      failure ??= { error, file: relative };
      throw error;
    }
    written.push(relative);
    // The folder got a new entry, and so did each parent that mkdir created up to OUT.
    for (let dir = path.dirname(file); dir !== out && isInside(dir, out); dir = path.dirname(dir)) {
      filled.add(dir);
    }
  };
  const seconds = () => (performance.now() - started) / 1000;
  const rate = () => Math.round(done / Math.max(seconds(), 1e-3));

  // Every folder that received an entry is fsynced before the manifest names its files, so the
  // manifest never lists a file that a power cut could take back.
  const syncFolder = async (dir: string) => {
    try {
      await io.syncDirectory(dir);
    } catch (error) {
      failure ??= { error, file: path.relative(out, dir) || '.' };
      throw error;
    }
  };
  const syncFolders = async () => {
    await Promise.all([...filled].map(syncFolder));
    await syncFolder(out);
  };
  const writeManifest = async () => {
    rows.sort((a, b) => a.imageId - b.imageId);
    await syncFolders();
    await writeOutput(MANIFEST_FILE, manifestCsv(rows.map((entry) => entry.row)));
    await syncFolder(out);
  };

  const stop = async (): Promise<never> => {
    const { error, file } = failure!;
    const filesBefore = [...written];
    let manifestNote: string;
    try {
      // Rows whose mask lives in a dataset file that was never written are no use.
      if (rows.length > 0 && datasetMaskFile === null) {
        failure = null;
        await writeManifest();
        manifestNote = `they are listed in ${path.join(out, MANIFEST_FILE)}`;
      } else manifestNote = 'no manifest was written';
    } catch (manifestError) {
      manifestNote = `the manifest could not be written either (${describeWriteError(manifestError)})`;
    }
    const listing =
      filesBefore.length === 0
        ? 'nothing was written'
        : `${filesBefore.length} file(s) were written before the stop: ${filesBefore
            .slice(0, 10)
            .join(
              ', ',
            )}${filesBefore.length > 10 ? ` and ${filesBefore.length - 10} more` : ''}; ${manifestNote}`;
    throw new ExportStoppedError(
      `export stopped: ${describeWriteError(error)} while writing ${path.join(out, file)}; ${listing}`,
      [...written],
    );
  };

  try {
    await io.mkdir(out);
  } catch (error) {
    failure = { error, file: '.' };
    return stop();
  }

  try {
    await pool(
      items,
      runOptions.concurrency ?? DEFAULT_CONCURRENCY,
      async (item) => {
        if (failure) return;
        const rendered = await render(store, format, item, options, plan.model, settings);
        if ('reason' in rendered) {
          skipped.push({ image: item.image.relPath, reason: rendered.reason });
          return;
        }
        const hashes = new Map<string, string>();
        try {
          if (item.imageFile && rendered.imageBytes) {
            await writeOutput(item.imageFile, rendered.imageBytes);
            hashes.set(item.imageFile, sha256(rendered.imageBytes));
          }
          for (const [index, { file }] of item.files.entries()) {
            await writeOutput(file, rendered.data[index]);
            hashes.set(file, sha256(rendered.data[index]));
          }
        } catch {
          return; // recorded in `failure`; the pool drains and the export stops
        }
        records.push({
          image: item.image,
          names: item.names,
          mask: rendered.mask,
          record: rendered.record,
        });
        const maskFile = item.files.find((file) => file.role === 'mask')?.file ?? null;
        const imageFile =
          item.imageFile ?? item.files.find((file) => file.role === 'image')?.file ?? null;
        rows.push({
          imageId: item.image.id,
          row: {
            image: item.image.relPath,
            maskFile: maskFile ?? datasetMaskFile ?? '',
            source: item.revision.source,
            modelVersion: item.revision.modelVersion,
            reviewState: item.image.reviewState,
            lastEdit: item.revision.createdAt,
            dice: rendered.dice,
            foregroundPixels: rendered.mask.foreground,
            // A mask in a dataset file gets that file's hash once it is written.
            sha256: maskFile ? (hashes.get(maskFile) ?? '') : '',
            imageFile,
            imageSha256: imageFile ? (hashes.get(imageFile) ?? null) : null,
          },
        });
        done++;
        reporter.progress({ done, detail: { masksPerSecond: rate() } });
      },
      reporter.signal,
    );
  } catch (error) {
    if (error instanceof CancelledError && !failure) {
      // What is on disk stays consistent: the manifest lists the masks written before the cancel;
      // when it cannot be written, the reason of the cancel says so instead of hiding it.
      let manifestNote = '';
      if (rows.length > 0 && datasetMaskFile === null) {
        try {
          await writeManifest();
        } catch (manifestError) {
          manifestNote = `; the manifest could not be written (${describeWriteError(manifestError)})`;
        }
      }
      throw new CancelledError(`export cancelled after ${done} of ${total} masks${manifestNote}`);
    }
    if (!failure) throw error;
  }
  if (failure) return stop();

  if (datasetFiles.length > 0) {
    reporter.progress({ phase: `writing ${datasetFiles.map(({ file }) => file).join(', ')}` });
    records.sort((a, b) => a.image.id - b.image.id);
    const contents =
      (await format.finish?.({
        holdOut: activeHoldOut(store),
        options,
        model: plan.model,
        records,
      })) ?? [];
    if (contents.length !== datasetFiles.length) {
      throw new Error(
        `export format ${format.id} finished ${contents.length} file(s) for ${datasetFiles.length} planned`,
      );
    }
    for (const [index, { file }] of datasetFiles.entries()) {
      try {
        await writeOutput(file, contents[index]);
      } catch {
        return stop();
      }
      if (file === datasetMaskFile) {
        const hash = sha256(contents[index]);
        for (const entry of rows) if (entry.row.maskFile === file) entry.row.sha256 = hash;
      }
    }
  }
  try {
    await writeManifest();
  } catch {
    return stop();
  }
  const elapsed = seconds();
  reporter.progress({ phase: 'done', done, total, detail: { masksPerSecond: rate() } });
  return {
    out,
    manifest: path.join(out, MANIFEST_FILE),
    source: options.source,
    format: options.format,
    model: plan.model,
    masks: done,
    files: written.sort(),
    skipped,
    seconds: elapsed,
    masksPerSecond: done / Math.max(elapsed, 1e-6),
  };
}

/** Plan, check and run in one call (CLI, bench, tests). */
export async function exportMasks(
  store: ProjectStore,
  input: ExportInput,
  reporter?: JobReporter,
  runOptions?: RunOptions,
): Promise<ExportResult> {
  const plan = await planExport(store, input);
  assertNoConflicts(plan);
  return runExport(store, plan, reporter, runOptions);
}
