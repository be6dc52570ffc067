/**
 * The export's plan: which revision of which image goes to which file, and the safety rules checked
 * before anything is written (no replacing without `overwrite`, never inside a dataset folder).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import {
  exportInputSchema,
  type ExportInput,
  type ExportOptions,
  type ExportPlan,
  type ExportSkip,
} from '../../shared/export-schemas';
import { exportFormatOf, type PlannedFile } from '../formats';
import { CancelledError } from '../job-reporter';
import { listDatasets } from '../project/datasets';
import { queryImages, type ImageRecord } from '../project/images';
import { getRevision, latestPrediction, type MaskRevision } from '../project/masks';
import { activeModel } from '../project/review';
import {
  assertLabelSource,
  labelSourceOf,
  resolveLabel,
  type LabelSourceSpec,
  type ResolvedLabel,
} from '../project/label-source';
import type { ProjectStore } from '../project/store';
import { assertOrdinaryOutput, resolveUserPath } from '../guarded-files';
import { MANIFEST_FILE } from './manifest';
import {
  imageFileOf,
  isInside,
  qataNames,
  resolveInside,
  sanitiseSegment,
  type QataNames,
} from '../formats/names';

/** Parallel tasks: enough to keep libuv's threads busy with sharp on 2 cores, few enough to stay responsive. */
export const DEFAULT_CONCURRENCY = 4;
export const LISTED_CONFLICTS = 10;

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

export interface PlanItem {
  image: ImageRecord;
  names: QataNames;
  revision: MaskRevision;
  /** A label other than a mask revision (`labelSource` consensus or reader:NAME), else null. */
  label: ResolvedLabel | null;
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

export async function pool<T>(
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

/** What a label of another source looks like to the writers: a manual revision by its author. */
function labelRevision(image: ImageRecord, label: ResolvedLabel, createdAt: string): MaskRevision {
  return {
    id: 0,
    imageId: image.id,
    source: 'correction',
    modelVersion: null,
    author: label.author,
    createdAt,
    parentId: null,
    width: image.width,
    height: image.height,
    foreground: 0,
  };
}

function chooseRevision(
  store: ProjectStore,
  image: ImageRecord,
  options: ExportOptions,
  model: string | null,
  source: LabelSourceSpec | null,
): { revisionId: number } | { label: ResolvedLabel } | { reason: string } {
  if (source?.kind === 'final') {
    const id = image.correctionHeadId ?? image.groundTruthId;
    return id !== null ? { revisionId: id } : { reason: 'no label (correction or ground truth)' };
  }
  if (source) {
    const label = resolveLabel(store.db, image.id, source);
    return 'reason' in label ? label : { label };
  }
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
  const source = options.labelSource ? labelSourceOf(options.labelSource) : null;
  if (source) {
    try {
      assertLabelSource(db, source);
    } catch (error) {
      throw new ExportRefusedError('bad-request', (error as Error).message);
    }
  }
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
  const planned = new Date().toISOString();
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
    const chosen = chooseRevision(store, image, options, model, source);
    if ('reason' in chosen) {
      skipped.push({ image: image.relPath, reason: chosen.reason });
      continue;
    }
    const names = qataNames(image.relPath, prefixes.get(image.datasetId));
    items.push({
      image,
      names,
      revision:
        'label' in chosen
          ? labelRevision(image, chosen.label, planned)
          : getRevision(db, chosen.revisionId),
      label: 'label' in chosen ? chosen.label : null,
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
