/**
 * Review operations shared by the contract handlers, the CLI and tests: image detail, saving a
 * correction from a client PNG, undo/redo, review state, metrics between layers.
 */
import { ApiError } from '../../shared/contract';
import type { DicomDisplay } from '../../shared/dicom-voi';
import type {
  DicomDetail,
  ImageDetail,
  ImagesMetricsOutput,
  MaskLayer,
  MaskSource,
  ReviewState,
} from '../../shared/contract-review';
import { maskMetrics } from '../../shared/metrics';
import fsp from 'node:fs/promises';
import { imageDecoderFor } from '../formats';
import { dicomTagsOf } from './dicom-tags';
import { getImage, imageAbsolutePath, setReview } from './images';
import { mediaErrorOf } from './media-errors';
import {
  addCorrection,
  canRedo,
  canUndo,
  currentLabel,
  labelRevisionId,
  latestPrediction,
  predictionStats,
  redoCorrection,
  refreshPredictionDiceAfterCommit,
  revisionMask,
  revisionPixels,
  undoCorrection,
} from './masks';
import { decodeRequestMask, encodeGray8 } from './mask-png';
import type { ProjectStore } from './store';

export const ACTIVE_MODEL_KEY = 'active_model';

export function activeModel(store: ProjectStore): string | null {
  return store.getMeta(ACTIVE_MODEL_KEY);
}

export function imageDetail(store: ProjectStore, imageId: number): ImageDetail {
  const db = store.db;
  const image = getImage(db, imageId);
  const model = activeModel(store);
  const prediction = model ? latestPrediction(db, imageId, model) : null;
  const stats = model ? predictionStats(db, imageId, model) : null;
  return {
    id: image.id,
    datasetId: image.datasetId,
    relPath: image.relPath,
    name: image.name,
    split: image.split,
    width: image.width,
    height: image.height,
    bitDepth: image.bitDepth,
    channels: image.channels,
    sha256: image.sha256,
    status: image.status,
    reviewState: image.reviewState,
    comment: image.comment,
    groundTruthRevisionId: image.groundTruthId,
    correctionRevisionId: image.correctionHeadId,
    labelRevisionId: labelRevisionId(image),
    predictionRevisionId: prediction?.id ?? null,
    activeModel: model,
    prediction: stats
      ? {
          revisionId: stats.revisionId,
          modelVersion: stats.modelVersion,
          predictedArea: stats.predictedArea,
          uncertainty: stats.uncertainty,
          dice: stats.dice,
        }
      : null,
    canUndo: canUndo(image),
    canRedo: canRedo(db, image),
    updatedAt: image.updatedAt,
    reviewedAt: image.reviewedAt,
    dicom: dicomDetail(db, imageId),
    file: imageAbsolutePath(image),
    mediaError: mediaErrorOf(store, image),
  };
}

function dicomDetail(db: ProjectStore['db'], imageId: number): DicomDetail | null {
  const tags = dicomTagsOf(db, imageId);
  if (!tags) return null;
  return {
    patientId: tags.patientId,
    studyDate: tags.studyDate,
    modality: tags.modality,
    viewPosition: tags.viewPosition,
    pixelSpacing:
      tags.rowSpacing !== null && tags.columnSpacing !== null
        ? [tags.rowSpacing, tags.columnSpacing]
        : null,
    sopInstanceUid: tags.sopInstanceUid,
    studyInstanceUid: tags.studyInstanceUid,
    seriesInstanceUid: tags.seriesInstanceUid,
  };
}

/** How the viewer windows a DICOM image (read from its file); null for other images. */
export async function imageDisplay(
  store: ProjectStore,
  imageId: number,
): Promise<DicomDisplay | null> {
  const image = getImage(store.db, imageId);
  if (image.format !== 'dicom') return null;
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(imageAbsolutePath(image));
  } catch {
    throw new ApiError('not-found', `the file of image ${imageId} is missing`);
  }
  const decoded = await imageDecoderFor(bytes).decode(bytes);
  return decoded.metadata?.display ?? null;
}

/**
 * Saves a client's mask PNG as a correction. Binarises (> 0 is foreground), refuses a size other
 * than the image's, and resolves once the row is committed (WAL, synchronous = FULL).
 */
export async function saveCorrection(
  store: ProjectStore,
  input: {
    imageId: number;
    png: string | Buffer;
    baseRevisionId?: number | null;
    reviewState?: ReviewState;
    author?: string;
  },
  /** Called with the new revision id right after its commit, before anything awaits. */
  onCommitted: (revisionId: number) => void = () => undefined,
): Promise<number> {
  const image = getImage(store.db, input.imageId);
  const mask = await decodeRequestMask(input.png, image);
  const png = await encodeGray8(mask.data, mask.width, mask.height);
  const id = addCorrection(store.db, image.id, {
    png,
    width: mask.width,
    height: mask.height,
    foreground: mask.foreground,
    author: input.author ?? 'reviewer',
    baseRevisionId: input.baseRevisionId,
    reviewState: input.reviewState,
  });
  onCommitted(id);
  await refreshPredictionDiceAfterCommit(store.db, image.id);
  return id;
}

/**
 * Saves a correction and answers with the image as this save left it: its own revision, even when
 * another save landed while this one refreshed the Dice (reading the image after that await gave
 * two saves the same revision id). The Dice is the refreshed one unless another save came between.
 */
export async function saveCorrectionDetail(
  store: ProjectStore,
  input: Parameters<typeof saveCorrection>[1],
): Promise<ImageDetail> {
  let atCommit: ImageDetail | null = null;
  const id = await saveCorrection(store, input, () => {
    atCommit = imageDetail(store, input.imageId);
  });
  const now = imageDetail(store, input.imageId);
  return now.correctionRevisionId === id || !atCommit ? now : atCommit;
}

export async function undo(store: ProjectStore, imageId: number): Promise<boolean> {
  const moved = undoCorrection(store.db, imageId);
  if (moved) await refreshPredictionDiceAfterCommit(store.db, imageId);
  return moved;
}

export async function redo(store: ProjectStore, imageId: number): Promise<boolean> {
  const moved = redoCorrection(store.db, imageId);
  if (moved) await refreshPredictionDiceAfterCommit(store.db, imageId);
  return moved;
}

/**
 * Sets the review state and/or comment. Negative means the image has no lesion: refused
 * ('conflict') while the label in force has foreground, which the reviewer clears first (or keeps,
 * and then the image is not negative).
 */
export function setReviewState(
  store: ProjectStore,
  imageId: number,
  change: { state?: ReviewState; comment?: string },
): void {
  store.db.transaction(() => {
    if (change.state === 'negative') {
      const label = currentLabel(store.db, imageId);
      if (label && label.foreground > 0) {
        throw new ApiError(
          'conflict',
          `the label of image ${imageId} has ${label.foreground} lesion pixels: clear it to mark the image negative, or keep it (then the image is not negative)`,
        );
      }
    }
    setReview(store.db, imageId, change);
  })();
}

/**
 * The revision a layer stands for, and which stored mask that is: the ground truth; the label in
 * force (correction head, else ground truth); the newest prediction of the active model.
 */
export function layerRevision(
  store: ProjectStore,
  imageId: number,
  layer: MaskLayer,
): { id: number; source: MaskSource } {
  const image = getImage(store.db, imageId);
  if (layer === 'label') {
    if (image.correctionHeadId !== null)
      return { id: image.correctionHeadId, source: 'correction' };
    if (image.groundTruthId !== null) return { id: image.groundTruthId, source: 'ground-truth' };
    throw new ApiError(
      'not-found',
      `image ${imageId} has no label (neither a correction nor a ground truth)`,
    );
  }
  if (layer === 'ground-truth') {
    if (image.groundTruthId !== null) return { id: image.groundTruthId, source: 'ground-truth' };
    throw new ApiError('not-found', `image ${imageId} has no ground truth`);
  }
  const model = activeModel(store);
  if (!model) throw new ApiError('not-found', 'no active model: image has no prediction layer');
  const prediction = latestPrediction(store.db, imageId, model);
  if (!prediction) {
    throw new ApiError('not-found', `image ${imageId} has no prediction of model ${model}`);
  }
  return { id: prediction.id, source: 'prediction' };
}

async function layerPixels(
  store: ProjectStore,
  revisionId: number,
  source: MaskSource,
  threshold: number,
): Promise<Uint8Array> {
  if (source !== 'prediction') return revisionMask(store.db, revisionId);
  // Threshold the probability map into a binary mask so either side may be the prediction.
  const probabilities = await revisionPixels(store.db, revisionId);
  const cut = threshold * 255;
  const binary = new Uint8Array(probabilities.length);
  for (let i = 0; i < probabilities.length; i++) {
    binary[i] = probabilities[i] > 0 && probabilities[i] >= cut ? 255 : 0;
  }
  return binary;
}

/** Pixel metrics of layer `a` (as the prediction) against layer `b` (as the reference). */
export async function layerMetrics(
  store: ProjectStore,
  input: { imageId: number; a: MaskLayer; b: MaskLayer; threshold?: number },
): Promise<ImagesMetricsOutput> {
  const threshold = input.threshold ?? 0.5;
  const a = layerRevision(store, input.imageId, input.a);
  const b = layerRevision(store, input.imageId, input.b);
  const aPixels = await layerPixels(store, a.id, a.source, threshold);
  const bPixels = await layerPixels(store, b.id, b.source, threshold);
  return {
    aRevisionId: a.id,
    bRevisionId: b.id,
    aSource: a.source,
    bSource: b.source,
    ...maskMetrics(aPixels, bPixels),
  };
}
