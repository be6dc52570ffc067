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
import path from 'node:path';
import {
  type ExportInput,
  type ExportOptions,
  type ExportResult,
} from '../../shared/export-schemas';
import { maskMetrics } from '../../shared/metrics';
import { readGray8 } from '../dataset/decode';
import {
  exportFormatOf,
  imageDecoderFor,
  type ExportFormatDefinition,
  type ExportMask,
  type ExportRecord,
} from '../formats';
import { segmentLabelRgb } from '../formats/dicom/seg-export';
import { decodeGray8Png } from '../formats/png';
import { readRegularFile } from '../fs-errors';
import { CancelledError, type JobReporter } from '../job-reporter';
import { activeVersion, readCard } from '../ml/versions';
import { dicomTagsOf } from '../project/dicom-tags';
import { readSegmentLabel } from '../project/export-settings';
import { imageAbsolutePath } from '../project/images';
import { getRevisionPng } from '../project/masks';
import { resolvedLabelMask, type ResolvedLabel } from '../project/label-source';
import { decodeBinaryMask, decodeGray8 } from '../project/mask-png';
import type { ProjectStore } from '../project/store';
import { MANIFEST_FILE, manifestCsv, type ManifestRow } from './manifest';
import { isInside, resolveInside } from '../formats/names';
import {
  describeWriteError,
  moveWithoutReplacing,
  nodeIo,
  sha256,
  syncDirectoryDurably,
  writeAtomic,
  writeFileDurably,
  type ExportIo,
} from './export-io';
import {
  assertNoConflicts,
  assertOutsideOwnData,
  DEFAULT_CONCURRENCY,
  ExportRefusedError,
  ExportStoppedError,
  planExport,
  planSummary,
  pool,
  type PlanItem,
  type PlannedExport,
} from './export-plan';

export { COCO_FILE } from '../formats/coco';
export {
  assertNoConflicts,
  assertOutsideOwnData,
  ExportRefusedError,
  ExportStoppedError,
  moveWithoutReplacing,
  nodeIo,
  planExport,
  planSummary,
  syncDirectoryDurably,
  writeFileDurably,
  type ExportIo,
  type PlanItem,
  type PlannedExport,
};

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

/** The manifest's source of a label of team review: reader:NAME, consensus:staple|vote. */
function labelSourceName(label: ResolvedLabel): string {
  return label.kind === 'reader' ? `reader:${label.author}` : `consensus:${label.method}`;
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
  if (item.label) {
    binary = values = await resolvedLabelMask(db, item.label);
    ({ width, height } = image);
  } else if (revision.source === 'prediction') {
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
  if (image.reviewState === 'negative' && !item.label) {
    // A reviewer ruled the image free of lesions: no export writes one, whatever the source
    // (a reader's or the consensus's own label is exported as that reader or consensus saw it).
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
    revision: item.label ? { ...revision, description: item.label.description } : revision,
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
            source: item.label ? labelSourceName(item.label) : item.revision.source,
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
