/**
 * The mask repository. Every mask is a row of `mask_revisions` and is never overwritten:
 * - ground truth: written by import; `images.ground_truth_id` points at the one in force (a changed
 *   mask file on re-import adds a child revision).
 * - corrections: a tree per image. `images.correction_head_id` is the correction in force (NULL: the
 *   ground truth is the label). A save adds a child of the head and moves the head to it; undo moves
 *   the head to its parent; redo to the head's newest child. An edit after an undo starts a branch,
 *   so nothing is lost and everything survives a restart.
 * - predictions: 8-bit probability PNGs per model version, with their figures in
 *   `prediction_stats` (newest per image and model).
 */
import { ApiError } from '../../shared/contract';
import type { MaskSource, ReviewState, Split } from '../../shared/contract-review';
import { confusion, metricsFromConfusion } from '../../shared/metrics';
import { predictionUncertainty } from '../math/uncertainty';
import { getImage, imageAbsolutePath, type ImageRecord } from './images';
import { countForeground, decodeBinaryMask, decodeGray8, encodeGray8 } from './mask-png';
import { statement, type Db } from './store';

export interface MaskRevision {
  id: number;
  imageId: number;
  source: MaskSource;
  modelVersion: string | null;
  author: string;
  createdAt: string;
  parentId: number | null;
  width: number;
  height: number;
  foreground: number;
}

export interface MaskRevisionWithPng extends MaskRevision {
  png: Buffer;
}

const REVISION_COLUMNS = `id, image_id AS imageId, source, model_version AS modelVersion, author,
  created_at AS createdAt, parent_id AS parentId, width, height, foreground`;

export function findRevision(db: Db, id: number): MaskRevision | null {
  const row = statement(db, `SELECT ${REVISION_COLUMNS} FROM mask_revisions WHERE id = ?`).get(
    id,
  ) as MaskRevision | undefined;
  return row ?? null;
}

export function getRevision(db: Db, id: number): MaskRevision {
  const revision = findRevision(db, id);
  if (!revision) throw new ApiError('not-found', `no mask revision ${id}`);
  return revision;
}

/** The stored PNG of a revision. */
export function getRevisionPng(db: Db, id: number): Buffer {
  const row = statement(db, 'SELECT png FROM mask_revisions WHERE id = ?').get(id) as
    { png: Buffer } | undefined;
  if (!row) throw new ApiError('not-found', `no mask revision ${id}`);
  return row.png;
}

export function listRevisions(db: Db, imageId: number): MaskRevision[] {
  return statement(
    db,
    `SELECT ${REVISION_COLUMNS} FROM mask_revisions WHERE image_id = ? ORDER BY id`,
  ).all(imageId) as MaskRevision[];
}

export interface NewRevision {
  imageId: number;
  source: MaskSource;
  modelVersion?: string | null;
  author: string;
  parentId?: number | null;
  png: Buffer;
  width: number;
  height: number;
  foreground: number;
}

/** Inserts a revision row and nothing else (no pointer moves); returns its id. */
export function insertRevision(db: Db, revision: NewRevision): number {
  const result = statement(
    db,
    `INSERT INTO mask_revisions
        (image_id, source, model_version, author, created_at, parent_id, png, width, height, foreground)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    revision.imageId,
    revision.source,
    revision.source === 'prediction' ? (revision.modelVersion ?? null) : null,
    revision.author,
    new Date().toISOString(),
    revision.parentId ?? null,
    revision.png,
    revision.width,
    revision.height,
    revision.foreground,
  );
  return Number(result.lastInsertRowid);
}

/**
 * Adds an imported ground truth and makes it the one in force (the previous one is its parent).
 * `previousId`, when the caller knows it (import), saves a lookup.
 */
export function setGroundTruth(
  db: Db,
  imageId: number,
  mask: { png: Buffer; width: number; height: number; foreground: number; sha256: string | null },
  author = 'import',
  previousId?: number | null,
): number {
  const parentId = previousId === undefined ? getImage(db, imageId).groundTruthId : previousId;
  const id = insertRevision(db, { imageId, source: 'ground-truth', author, parentId, ...mask });
  statement(
    db,
    'UPDATE images SET ground_truth_id = ?, ground_truth_sha256 = ?, updated_at = ? WHERE id = ?',
  ).run(id, mask.sha256, new Date().toISOString(), imageId);
  return id;
}

/** The label in force: the correction head, else the ground truth, else null. */
export function currentLabel(db: Db, imageId: number): MaskRevision | null {
  const image = getImage(db, imageId);
  const id = image.correctionHeadId ?? image.groundTruthId;
  return id === null ? null : getRevision(db, id);
}

export function labelRevisionId(image: Pick<ImageRecord, 'correctionHeadId' | 'groundTruthId'>) {
  return image.correctionHeadId ?? image.groundTruthId;
}

/** The newest child correction of `parentId` (NULL parent: the newest root correction). */
function newestChild(db: Db, imageId: number, parentId: number | null): number | null {
  const row = statement(
    db,
    `SELECT id FROM mask_revisions WHERE image_id = ? AND source = 'correction'
         AND parent_id IS ? ORDER BY id DESC LIMIT 1`,
  ).get(imageId, parentId) as { id: number } | undefined;
  return row?.id ?? null;
}

export function canUndo(image: Pick<ImageRecord, 'correctionHeadId'>): boolean {
  return image.correctionHeadId !== null;
}

export function canRedo(db: Db, image: Pick<ImageRecord, 'id' | 'correctionHeadId'>): boolean {
  return newestChild(db, image.id, image.correctionHeadId) !== null;
}

export interface CorrectionInput {
  png: Buffer;
  width: number;
  height: number;
  foreground: number;
  author: string;
  /** When a number: refuse ('conflict') unless it is the label revision in force. */
  baseRevisionId?: number | null;
  /** Review state after the save (default 'corrected'). */
  reviewState?: ReviewState;
}

/**
 * Saves a correction as a child of the head and moves the head to it, in one transaction.
 * The caller has validated the size and binarised the PNG.
 */
export function addCorrection(db: Db, imageId: number, input: CorrectionInput): number {
  return db.transaction(() => {
    const image = getImage(db, imageId);
    if (input.width !== image.width || input.height !== image.height) {
      throw new ApiError(
        'bad-request',
        `mask is ${input.width}x${input.height}, image ${imageId} is ${image.width}x${image.height}`,
      );
    }
    const base = labelRevisionId(image);
    if (typeof input.baseRevisionId === 'number' && input.baseRevisionId !== base) {
      throw new ApiError(
        'conflict',
        `the label of image ${imageId} moved (now revision ${base ?? 'none'}, edit based on ${input.baseRevisionId})`,
      );
    }
    const reviewState = input.reviewState ?? 'corrected';
    if (reviewState === 'negative' && input.foreground > 0) {
      throw new ApiError(
        'bad-request',
        `a label with ${input.foreground} lesion pixels cannot be saved as negative`,
      );
    }
    const id = insertRevision(db, {
      imageId,
      source: 'correction',
      author: input.author,
      parentId: image.correctionHeadId,
      png: input.png,
      width: input.width,
      height: input.height,
      foreground: input.foreground,
    });
    statement(
      db,
      'UPDATE mask_revisions SET review_state_before = ?, review_state_after = ? WHERE id = ?',
    ).run(image.reviewState, reviewState, id);
    const now = new Date().toISOString();
    statement(
      db,
      `UPDATE images SET correction_head_id = ?, review_state = ?, reviewed_at = ?, updated_at = ?
       WHERE id = ?`,
    ).run(id, reviewState, now, now, imageId);
    return id;
  })();
}

function reviewStatesAround(
  db: Db,
  revisionId: number,
): { before: ReviewState | null; after: ReviewState | null } {
  return statement(
    db,
    'SELECT review_state_before AS before, review_state_after AS after FROM mask_revisions WHERE id = ?',
  ).get(revisionId) as { before: ReviewState | null; after: ReviewState | null };
}

/** Moves the head and, when given, the review state (with its time) in one statement. */
function moveHead(db: Db, imageId: number, head: number | null, state: ReviewState | null): void {
  const now = new Date().toISOString();
  if (state === null) {
    statement(db, 'UPDATE images SET correction_head_id = ?, updated_at = ? WHERE id = ?').run(
      head,
      now,
      imageId,
    );
    return;
  }
  statement(
    db,
    `UPDATE images SET correction_head_id = ?, review_state = ?, reviewed_at = ?, updated_at = ?
     WHERE id = ?`,
  ).run(head, state, state === 'unreviewed' ? null : now, now, imageId);
}

/**
 * Moves the correction head to its parent. Back at the ground truth (no correction in force), the
 * image gets the review state it had before the first edit. Returns false when there is nothing to
 * undo.
 */
export function undoCorrection(db: Db, imageId: number): boolean {
  return db.transaction(() => {
    const image = getImage(db, imageId);
    if (image.correctionHeadId === null) return false;
    const head = getRevision(db, image.correctionHeadId);
    const parent = head.parentId !== null ? findRevision(db, head.parentId) : null;
    const next = parent?.source === 'correction' ? parent.id : null;
    moveHead(db, imageId, next, next === null ? reviewStatesAround(db, head.id).before : null);
    return true;
  })();
}

/**
 * Moves the correction head to its newest child; from the ground truth, the image gets the review
 * state that save set. Returns false when there is nothing to redo.
 */
export function redoCorrection(db: Db, imageId: number): boolean {
  return db.transaction(() => {
    const image = getImage(db, imageId);
    const child = newestChild(db, imageId, image.correctionHeadId);
    if (child === null) return false;
    const fromGroundTruth = image.correctionHeadId === null;
    moveHead(db, imageId, child, fromGroundTruth ? reviewStatesAround(db, child).after : null);
    return true;
  })();
}

// ---------------------------------------------------------------------------------------------
// Predictions

export interface PredictionStats {
  imageId: number;
  modelVersion: string;
  revisionId: number;
  predictedArea: number;
  uncertainty: number;
  dice: number | null;
}

/** Newest prediction revision of an image by a model version. */
export function latestPrediction(
  db: Db,
  imageId: number,
  modelVersion: string,
): MaskRevision | null {
  const row = statement(
    db,
    `SELECT ${REVISION_COLUMNS} FROM mask_revisions
       WHERE image_id = ? AND source = 'prediction' AND model_version = ? ORDER BY id DESC LIMIT 1`,
  ).get(imageId, modelVersion) as MaskRevision | undefined;
  return row ?? null;
}

export function predictionStats(
  db: Db,
  imageId: number,
  modelVersion: string,
): PredictionStats | null {
  const row = statement(
    db,
    `SELECT image_id AS imageId, model_version AS modelVersion, revision_id AS revisionId,
         predicted_area AS predictedArea, uncertainty, dice
       FROM prediction_stats WHERE image_id = ? AND model_version = ?`,
  ).get(imageId, modelVersion) as PredictionStats | undefined;
  return row ?? null;
}

/** Figures of a probability map (0..255) against an optional binary label. */
export function predictionFigures(
  probabilities: Uint8Array,
  label: Uint8Array | null,
): { foreground: number; predictedArea: number; uncertainty: number; dice: number | null } {
  const n = probabilities.length;
  const foreground = countForeground(probabilities, 128);
  const dice = label ? metricsFromConfusion(confusion(probabilities, label, 0.5)).dice : null;
  return {
    foreground,
    predictedArea: n === 0 ? 0 : foreground / n,
    uncertainty: predictionUncertainty(probabilities),
    dice,
  };
}

export interface NewPrediction {
  imageId: number;
  modelVersion: string;
  /** 8-bit gray probability PNG. */
  png: Buffer;
  width: number;
  height: number;
  foreground: number;
  predictedArea: number;
  uncertainty: number;
  dice: number | null;
  author?: string;
}

/** Inserts a prediction revision (child of the previous one of that model) and its figures. */
export function addPrediction(db: Db, prediction: NewPrediction): number {
  return db.transaction(() => {
    const previous = latestPrediction(db, prediction.imageId, prediction.modelVersion);
    const id = insertRevision(db, {
      imageId: prediction.imageId,
      source: 'prediction',
      modelVersion: prediction.modelVersion,
      author: prediction.author ?? `model ${prediction.modelVersion}`,
      parentId: previous?.id ?? null,
      png: prediction.png,
      width: prediction.width,
      height: prediction.height,
      foreground: prediction.foreground,
    });
    statement(
      db,
      `INSERT INTO prediction_stats (image_id, model_version, revision_id, predicted_area, uncertainty, dice)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (image_id, model_version) DO UPDATE SET revision_id = excluded.revision_id,
         predicted_area = excluded.predicted_area, uncertainty = excluded.uncertainty,
         dice = excluded.dice`,
    ).run(
      prediction.imageId,
      prediction.modelVersion,
      id,
      prediction.predictedArea,
      prediction.uncertainty,
      prediction.dice,
    );
    return id;
  })();
}

/** Images (file present) that have no prediction of a model version, by id. */
export function unpredictedImageIds(db: Db, modelVersion: string): number[] {
  return (
    statement(
      db,
      `SELECT i.id FROM images i
         LEFT JOIN prediction_stats ps ON ps.image_id = i.id AND ps.model_version = ?
       WHERE ps.image_id IS NULL AND i.status != 'missing' ORDER BY i.id`,
    ).all(modelVersion) as { id: number }[]
  ).map((row) => row.id);
}

/** Decoded pixels (0/255) of a binary revision. */
export async function revisionMask(db: Db, revisionId: number): Promise<Uint8Array> {
  return (await decodeBinaryMask(getRevisionPng(db, revisionId))).data;
}

/** Raw 0..255 pixels of a revision (probabilities for predictions). */
export async function revisionPixels(db: Db, revisionId: number): Promise<Uint8Array> {
  return (await decodeGray8(getRevisionPng(db, revisionId))).data;
}

/**
 * The engine's entry point for a prediction: encodes the probability map, computes its figures
 * against the label in force and stores both. `probabilities` is one byte (0..255) per pixel.
 */
export async function savePrediction(
  db: Db,
  imageId: number,
  modelVersion: string,
  probabilities: Uint8Array,
  /** The score of several passes (the worker's test-time transforms); absent: from the map. */
  uncertainty?: number,
): Promise<number> {
  const image = getImage(db, imageId);
  if (probabilities.length !== image.width * image.height) {
    throw new ApiError(
      'bad-request',
      `prediction has ${probabilities.length} pixels, image ${imageId} is ${image.width}x${image.height}`,
    );
  }
  const png = await encodeGray8(probabilities, image.width, image.height);
  for (let attempt = 1; ; attempt++) {
    const labelId = labelRevisionId(getImage(db, imageId));
    const label = labelId === null ? null : await revisionMask(db, labelId);
    // A label saved while its pixels were decoded would make these figures stale: measure again
    // (a few times; after that the figures stand and the save's own refresh corrects the Dice).
    if (labelRevisionId(getImage(db, imageId)) !== labelId && attempt < LABEL_RACE_ATTEMPTS) {
      continue;
    }
    return addPrediction(db, {
      imageId,
      modelVersion,
      png,
      width: image.width,
      height: image.height,
      ...predictionFigures(probabilities, label),
      ...(uncertainty === undefined ? {} : { uncertainty }),
    });
  }
}

/** How often a Dice is measured again when the label moves while it is measured. */
const LABEL_RACE_ATTEMPTS = 5;

/**
 * Recomputes the Dice of every model's newest prediction of an image against its label. The
 * writes happen only if the label and each prediction are still those measured (checked with no
 * await between the check and the writes), so interleaved refreshes never leave a stale Dice last:
 * a refresh that lost the race measures again.
 */
export async function refreshPredictionDice(db: Db, imageId: number): Promise<void> {
  for (let attempt = 0; attempt < LABEL_RACE_ATTEMPTS; attempt++) {
    const labelId = labelRevisionId(getImage(db, imageId));
    const rows = statement(
      db,
      'SELECT model_version AS modelVersion, revision_id AS revisionId FROM prediction_stats WHERE image_id = ?',
    ).all(imageId) as { modelVersion: string; revisionId: number }[];
    if (rows.length === 0) return;
    const label = labelId === null ? null : await revisionMask(db, labelId);
    const measured: { row: (typeof rows)[number]; dice: number | null }[] = [];
    for (const row of rows) {
      const probabilities = await revisionPixels(db, row.revisionId);
      const dice =
        label && label.length === probabilities.length
          ? metricsFromConfusion(confusion(probabilities, label, 0.5)).dice
          : null;
      measured.push({ row, dice });
    }
    if (labelRevisionId(getImage(db, imageId)) !== labelId) continue;
    db.transaction(() => {
      for (const { row, dice } of measured) {
        // A newer prediction of the model measures itself when it is saved.
        statement(
          db,
          'UPDATE prediction_stats SET dice = ? WHERE image_id = ? AND model_version = ? AND revision_id = ?',
        ).run(dice, imageId, row.modelVersion, row.revisionId);
      }
    })();
    return;
  }
}

/**
 * The refresh after a committed save, undo or redo: never throws into the answer of a change
 * that is already durable. When the Dice cannot be measured (a damaged prediction), it becomes
 * unknown (NULL) rather than staying a figure for another label.
 */
export async function refreshPredictionDiceAfterCommit(db: Db, imageId: number): Promise<void> {
  try {
    await refreshPredictionDice(db, imageId);
  } catch {
    try {
      statement(db, 'UPDATE prediction_stats SET dice = NULL WHERE image_id = ?').run(imageId);
    } catch {
      // The database refuses even this (busy, read-only): the next refresh measures again.
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Training pairs

/**
 * Which labels train a model: 'ground-truth' (imported, not corrected), 'corrected' (a correction
 * is in force), 'accepted' (review state accepted, with whatever label is in force).
 */
export type LabelSource = 'ground-truth' | 'accepted' | 'corrected';

export interface TrainingPair {
  imageId: number;
  imagePath: string;
  relPath: string;
  split: Split;
  width: number;
  height: number;
  /** The mask revision of the label in force (consensus: the plan; reader: their revision). */
  labelRevisionId: number;
  labelSource: LabelSource | 'consensus' | 'reader';
  /** A label other than the one in force (`--source consensus|reader:NAME`, label-source.ts). */
  label?: { kind: 'consensus' | 'reader'; key: string } | null;
}

export interface TrainingPairQuery {
  splits: Split[];
  sources: LabelSource[];
  /** Images flagged by a reviewer are doubtful labels; left out unless asked for. */
  includeFlagged?: boolean;
}

/** Image/label pairs for training or evaluation; only images whose file is present. */
export function trainingPairs(db: Db, query: TrainingPairQuery): TrainingPair[] {
  if (query.splits.length === 0 || query.sources.length === 0) return [];
  const rows = statement(
    db,
    `SELECT i.id AS imageId, d.root AS datasetRoot, i.rel_path AS relPath, i.split, i.width,
         i.height, i.review_state AS reviewState, i.ground_truth_id AS groundTruthId,
         i.correction_head_id AS correctionHeadId
       FROM images i JOIN datasets d ON d.id = i.dataset_id
       WHERE i.status != 'missing' AND i.split IN (${query.splits.map(() => '?').join(', ')})
         AND (i.ground_truth_id IS NOT NULL OR i.correction_head_id IS NOT NULL)
       ORDER BY i.id`,
  ).all(...query.splits) as {
    imageId: number;
    datasetRoot: string;
    relPath: string;
    split: Split;
    width: number;
    height: number;
    reviewState: ReviewState;
    groundTruthId: number | null;
    correctionHeadId: number | null;
  }[];
  const wanted = new Set(query.sources);
  const pairs: TrainingPair[] = [];
  for (const row of rows) {
    if (row.reviewState === 'flagged' && !query.includeFlagged) continue;
    let source: LabelSource | null = null;
    if (row.correctionHeadId !== null && wanted.has('corrected')) source = 'corrected';
    else if (row.reviewState === 'accepted' && wanted.has('accepted')) source = 'accepted';
    else if (row.correctionHeadId === null && wanted.has('ground-truth')) source = 'ground-truth';
    if (!source) continue;
    pairs.push({
      imageId: row.imageId,
      imagePath: imageAbsolutePath(row),
      relPath: row.relPath,
      split: row.split,
      width: row.width,
      height: row.height,
      labelRevisionId: (row.correctionHeadId ?? row.groundTruthId)!,
      labelSource: source,
    });
  }
  return pairs;
}
