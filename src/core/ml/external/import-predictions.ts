/**
 * Predictions from elsewhere (nnU-Net, MONAI, a researcher's own code) as a model version: a
 * folder of masks or probability maps paired to the project's images by name with the rules of
 * `qataseg import` (`mask_<name>`, `mask_<stem>.png`, `<name>`, `<stem>.png`, plus `<stem>.nii.gz`
 * and nnU-Net's `<case>.png`), stored as that version's prediction revisions, measured against the
 * previous version for "what changed", and tested on the locked test split. Files are read, never
 * written; the report has the shape of the dataset import's.
 *
 * Formats: PNG 0/255 or 0/1 masks (any non-zero value is foreground), 8- or 16-bit probability
 * PNGs (with `probability`), NIfTI (.nii, .nii.gz; one slice, voxel (i, j) = pixel (column i,
 * row j); masks > 0, probabilities 0..1), and DICOM SEG (.dcm, .dicom), paired not by name but by
 * the SOP Instance UID of the image each frame references, as DICOM import pairs ground truth.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ApiError, type Job } from '../../../shared/contract';
import type { ImportReport } from '../../../shared/dataset-schemas';
import type { ImportPredictionsResult } from '../../../shared/interop-schemas';
import { READ_LIMITS, readNamedFile, resolveUserPath } from '../../guarded-files';
import { listFiles, maskCandidates } from '../../dataset/layout';
import {
  listMaskReaders,
  maskReaderForName,
  maskReaderLabels,
  type MaskReader,
} from '../../formats';
import { nnunetCase } from '../../formats/nnunet';
import { CancelledError, RefusedError, type JobReporter } from '../../job-reporter';
import { projectImagesBySopInstance } from '../../project/dicom-tags';
import { getImage, queryImages, type ImageRecord } from '../../project/images';
import {
  latestPrediction,
  revisionPixels,
  savePrediction,
  trainingPairs,
} from '../../project/masks';
import { statement, type ProjectStore } from '../../project/store';
import type { MlContext } from '../ml-context';
import { recordPredictionChanges } from '../active-learning';
import { ALL_LABEL_SOURCES } from '../data';
import { evaluatePredictor } from '../infer';
import { activeVersion, versionDir, writeCard } from '../versions';
import { claimVersion, externalCard, releaseVersionClaim } from './add-model';

export interface ImportPredictionsInput {
  folder: string;
  name: string;
  /** The files are probability maps (8/16-bit PNG, float NIfTI), not binary masks. */
  probability?: boolean;
}

/** The registry's reader of a prediction file, chosen by its name (as files are paired). */
const readerOf = (file: string): MaskReader | null => maskReaderForName(path.basename(file));

/** File names (lower case) a prediction of an image may have, most specific first. */
export function predictionCandidates(image: Pick<ImageRecord, 'name'>): string[] {
  const stem = image.name.slice(0, image.name.length - path.extname(image.name).length);
  const id = nnunetCase(stem);
  // Every file name ending a name-paired mask reader claims (PNG, NIfTI), longest first.
  const endings = listMaskReaders()
    .filter((reader) => reader.pairing === 'name')
    .flatMap((reader) => [...reader.extensions].sort((a, b) => b.length - a.length));
  const names = [
    ...maskCandidates(image.name, null, true),
    ...endings.map((ending) => `mask_${stem}${ending}`),
    ...endings.map((ending) => `${stem}${ending}`),
    ...endings.map((ending) => `${id}${ending}`),
  ];
  return [...new Set(names.map((name) => name.toLowerCase()))];
}

interface Decoded {
  /** 0..255 per pixel (probabilities, or 0/255 for masks). */
  values: Uint8Array;
  width: number;
  height: number;
  warning?: string;
}

/** A prediction file's pixels as the 0..255 map the project stores. */
export async function decodePrediction(file: string, probability: boolean): Promise<Decoded> {
  const reader = readerOf(file);
  if (reader?.pairing !== 'name') throw new Error('not a prediction format paired by name');
  const bytes = await readNamedFile(file, READ_LIMITS.prediction, 'a prediction');
  const read = await reader.read(bytes, { probability });
  const hint = !probability && !read.cleanValues ? ' (probability maps need --probability)' : '';
  return {
    values: read.values,
    width: read.width,
    height: read.height,
    warning: read.warning === undefined ? undefined : read.warning + hint,
  };
}

/** The mask a referencing file (DICOM SEG) holds for the image with SOP Instance UID `reference`. */
async function decodeReferencedOf(file: string, reference: string): Promise<Decoded> {
  const reader = readerOf(file);
  if (reader?.pairing !== 'reference') throw new Error('not a file that references its images');
  const masks = reader.readAll(await readNamedFile(file, READ_LIMITS.prediction, reader.label));
  const values = masks.masks.get(reference);
  if (!values) throw new Error(`the ${reader.label} has no frame of ${reference}`);
  return { values, width: masks.width, height: masks.height };
}

/** Removes every prediction of a version (an import that did not finish leaves none behind). */
function deletePredictions(store: ProjectStore, version: string): void {
  store.db.transaction(() => {
    statement(store.db, 'DELETE FROM prediction_changes WHERE model_version = ?').run(version);
    statement(store.db, 'DELETE FROM prediction_stats WHERE model_version = ?').run(version);
    statement(
      store.db,
      "DELETE FROM mask_revisions WHERE source = 'prediction' AND model_version = ?",
    ).run(version);
  })();
}

interface Pairing {
  /** `reference`: for a DICOM SEG, the SOP Instance UID of the image its mask is for. */
  pairs: { image: ImageRecord; file: string; reference?: string }[];
  report: ImportReport;
}

const UNMATCHED_LISTED = 50;

/**
 * Pairs DICOM SEGs with the project's images by the SOP Instance UIDs their frames reference (read
 * from the header; the pixels are unpacked by the job, one image at a time); the first SEG for an
 * image wins, a later one is skipped saying so.
 */
async function pairSegmentations(
  store: ProjectStore,
  files: string[],
  rel: (file: string) => string,
  report: ImportReport,
  unmatched: string[],
): Promise<Pairing['pairs']> {
  const bySop = projectImagesBySopInstance(store.db);
  const pairs: Pairing['pairs'] = [];
  const taken = new Map<number, string>();
  for (const file of files) {
    let references: string[];
    const reader = readerOf(file);
    try {
      if (reader?.pairing !== 'reference') throw new Error('not paired by reference');
      references = reader.references(
        await readNamedFile(file, READ_LIMITS.prediction, reader.label),
      );
    } catch (error) {
      report.skipped.push({
        path: rel(file),
        reason: `not a DICOM SEG that can be read: ${(error as Error).message}`,
      });
      continue;
    }
    let matched = false;
    for (const uid of references) {
      const imageId = bySop.get(uid);
      const image = imageId === undefined ? null : getImage(store.db, imageId);
      if (!image) continue;
      matched = true;
      const earlier = taken.get(image.id);
      if (earlier !== undefined) {
        report.skipped.push({
          path: rel(file),
          reason: `${image.relPath} has a prediction in ${earlier} already`,
        });
        continue;
      }
      taken.set(image.id, rel(file));
      pairs.push({ image, file, reference: uid });
    }
    if (!matched) unmatched.push(rel(file));
  }
  return pairs;
}

/** Pairs the folder's files with the project's images; reads no pixels. */
export async function pairPredictions(store: ProjectStore, folder: string): Promise<Pairing> {
  const listing = await listFiles(folder, true);
  const files = listing.files.filter((file) => !path.basename(file).startsWith('.'));
  const rel = (file: string) => path.relative(folder, file).split(path.sep).join('/');
  const report: ImportReport = {
    pairs: 0,
    imagesWithoutMask: 0,
    orphanMasks: 0,
    // What could not be listed (an unreadable folder, a FIFO) is said, as by `qataseg import`.
    skipped: listing.skipped.map((entry) => ({ path: rel(entry.path), reason: entry.reason })),
    warnings: [],
    splits: { train: 0, test: 0, control: 0, unassigned: 0 },
  };
  const byName = new Map<string, string[]>();
  const segmentations: string[] = [];
  for (const file of files) {
    const reader = readerOf(file);
    if (!reader) {
      report.skipped.push({
        path: rel(file),
        reason: `not a prediction format (${maskReaderLabels()})`,
      });
      continue;
    }
    if (reader.pairing === 'reference') {
      segmentations.push(file);
      continue;
    }
    const key = path.basename(file).toLowerCase();
    byName.set(key, [...(byName.get(key) ?? []), file]);
  }
  const claims = new Map<string, ImageRecord[]>();
  const ambiguous = new Set<string>();
  for (const image of queryImages(store.db)) {
    const name = predictionCandidates(image).find((candidate) => byName.has(candidate));
    if (!name) continue;
    const matches = byName.get(name) ?? [];
    if (matches.length > 1) {
      ambiguous.add(name);
      continue;
    }
    claims.set(matches[0], [...(claims.get(matches[0]) ?? []), image]);
  }
  for (const name of ambiguous)
    for (const file of byName.get(name) ?? [])
      report.skipped.push({
        path: rel(file),
        reason: `${byName.get(name)?.length} files are named ${path.basename(file)}: import their folders one at a time`,
      });
  const unmatched: string[] = [];
  const pairs = await pairSegmentations(store, segmentations, rel, report, unmatched);
  const segmented = new Set(pairs.map((pair) => pair.image.id));
  for (const [, list] of byName) {
    for (const file of list) {
      if (ambiguous.has(path.basename(file).toLowerCase())) continue;
      const images = claims.get(file);
      if (!images) {
        unmatched.push(rel(file));
        continue;
      }
      if (images.length > 1) {
        report.skipped.push({
          path: rel(file),
          reason: `matches ${images.length} images of the project (${images
            .slice(0, 3)
            .map((image) => image.relPath)
            .join(', ')}): import one dataset at a time`,
        });
        continue;
      }
      if (segmented.has(images[0].id)) {
        report.skipped.push({
          path: rel(file),
          reason: `${images[0].relPath} has a prediction in a DICOM SEG already`,
        });
        continue;
      }
      pairs.push({ image: images[0], file });
    }
  }
  report.orphanMasks = unmatched.length;
  for (const file of unmatched.sort().slice(0, UNMATCHED_LISTED))
    report.warnings.push({ path: file, message: 'matches no image of the project' });
  if (unmatched.length > UNMATCHED_LISTED)
    report.warnings.push({
      path: '…',
      message: `and ${unmatched.length - UNMATCHED_LISTED} more files that match no image`,
    });
  pairs.sort((a, b) => a.image.id - b.image.id);
  return { pairs, report };
}

function nothingPaired(folder: string, report: ImportReport): string {
  const example = report.skipped[0]
    ? `; e.g. ${report.skipped[0].path}: ${report.skipped[0].reason}`
    : '';
  return `no prediction in ${folder} could be paired with an image of the project (${report.orphanMasks} file(s) match no image, ${report.skipped.length} skipped${example})`;
}

async function resolveFolder(folder: string, projectDir: string): Promise<string> {
  const absolute = resolveUserPath(folder, projectDir);
  let stat;
  try {
    stat = await fsp.stat(absolute);
  } catch {
    throw new ApiError('not-found', `predictions folder not found: ${absolute}`);
  }
  if (!stat.isDirectory()) throw new ApiError('bad-request', `not a folder: ${absolute}`);
  return fsp.realpath(absolute);
}

/** Reads, pairs and stores a folder of predictions as a new version (the job of the import). */
async function importPredictions(
  context: MlContext,
  reporter: JobReporter,
  folder: string,
  version: string,
  probability: boolean,
  { pairs, report }: Pairing,
): Promise<ImportPredictionsResult> {
  const store = context.project();
  const started = performance.now();
  const total = pairs.length;
  reporter.progress({ phase: 'reading predictions', done: 0, total });
  const saved: number[] = [];
  const formats: Record<string, number> = {};
  for (const { image, file, reference } of pairs) {
    if (reporter.signal.aborted) throw new CancelledError('import of predictions cancelled');
    const relative = path.relative(folder, file).split(path.sep).join('/');
    let decoded: Decoded;
    try {
      decoded =
        reference === undefined
          ? await decodePrediction(file, probability)
          : await decodeReferencedOf(file, reference);
    } catch (error) {
      report.skipped.push({ path: relative, reason: (error as Error).message });
      continue;
    }
    if (decoded.width !== image.width || decoded.height !== image.height) {
      report.skipped.push({
        path: relative,
        reason: `prediction is ${decoded.width}x${decoded.height} but its image ${image.relPath} is ${image.width}x${image.height}`,
      });
      continue;
    }
    if (decoded.warning) report.warnings.push({ path: relative, message: decoded.warning });
    await savePrediction(store.db, image.id, version, decoded.values);
    saved.push(image.id);
    const format = readerOf(file)?.id ?? 'other';
    formats[format] = (formats[format] ?? 0) + 1;
    report.pairs += 1;
    report.splits[image.split] += 1;
    reporter.progress({ done: saved.length, total });
  }
  const imageCount = queryImages(store.db).length;
  report.imagesWithoutMask = imageCount - report.pairs;
  if (saved.length === 0) throw new RefusedError(nothingPaired(folder, report));

  reporter.progress({ phase: 'comparing with the previous version' });
  await recordPredictionChanges(store, version, saved, reporter.signal);
  reporter.progress({ phase: 'testing on the locked test split' });
  const test = trainingPairs(store.db, { splits: ['test'], sources: ALL_LABEL_SOURCES });
  const evaluation = await evaluatePredictor(
    async ({ imageId }) => {
      const revision = latestPrediction(store.db, imageId, version);
      return revision ? revisionPixels(store.db, revision.id) : null;
    },
    store.db,
    test,
    0.5,
    { signal: reporter.signal },
  );
  const seconds = (performance.now() - started) / 1000;
  const card = externalCard(
    store,
    version,
    {
      kind: 'predictions',
      path: folder,
      importedAt: new Date().toISOString(),
      probability,
      formats,
      pairs: report.pairs,
      unmatched: report.orphanMasks,
      skipped: report.skipped.length,
    },
    evaluation,
    seconds,
  );
  writeCard(store, card);
  releaseVersionClaim(store, version);
  return {
    version,
    folder,
    report,
    saved: saved.length,
    testDice: evaluation.metrics?.dice ?? null,
    testImages: evaluation.perImage.length,
    missingTest: evaluation.missing ?? 0,
    seconds,
  };
}

/** Starts the import of a predictions folder as version `name` (refused if the name is taken). */
export async function startImportPredictions(
  context: MlContext,
  input: ImportPredictionsInput,
): Promise<Job> {
  const store = context.project();
  const folder = await resolveFolder(input.folder, store.dir);
  if (fs.existsSync(versionDir(store, input.name)))
    throw new ApiError('conflict', `a model version ${input.name} exists already`);
  const pairing = await pairPredictions(store, folder);
  if (pairing.pairs.length === 0)
    throw new ApiError('bad-request', nothingPaired(folder, pairing.report));
  const version = claimVersion(store, input.name);
  const dir = versionDir(store, version);
  return context.jobs.start('import-predictions', async (reporter) => {
    try {
      const result = await importPredictions(
        context,
        reporter,
        folder,
        version,
        input.probability ?? false,
        pairing,
      );
      context.emit('models.changed', { active: activeVersion(store) });
      context.emit('project.changed', context.projectState());
      context.emit('images.changed', { reason: 'prediction' });
      reporter.progress({ phase: 'done', detail: { version } });
      return result;
    } catch (error) {
      deletePredictions(store, version);
      fs.rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  });
}
