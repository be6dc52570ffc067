/**
 * Contract entries of the review room, spread into `methods` and `events` of ./contract.ts.
 * Each method: { input: zod schema, output: zod schema }; each event: a zod schema.
 *
 * This file imports nothing from ./contract (which spreads it), so it can be imported on its own.
 */
import { z } from 'zod';
import { dicomDisplaySchema } from './dicom-voi';
import { idSchema, maskFigureFields, noInput } from './schema-helpers';

export const splitSchema = z.enum(['train', 'test', 'control', 'unassigned']);
export type Split = z.infer<typeof splitSchema>;

export const reviewStateSchema = z.enum([
  'unreviewed',
  'accepted',
  'corrected',
  'flagged',
  'negative',
]);
export type ReviewState = z.infer<typeof reviewStateSchema>;

/** Whether the image file is still where the import found it, and unchanged. */
export const imageStatusSchema = z.enum(['present', 'missing', 'changed']);
export type ImageStatus = z.infer<typeof imageStatusSchema>;

export const maskSourceSchema = z.enum(['ground-truth', 'correction', 'prediction']);
export type MaskSource = z.infer<typeof maskSourceSchema>;

/**
 * A layer the review shows and compares: the imported ground truth; `label`, the label in force
 * (the correction head if the image has one, else the ground truth: what the editor shows and
 * edits, and what Dice in the worklist is measured against); the active model's prediction.
 */
export const maskLayerSchema = z.enum(['ground-truth', 'label', 'prediction']);
export type MaskLayer = z.infer<typeof maskLayerSchema>;

/** Which stored mask is the label in force: the correction head, else the ground truth, else none. */
export function labelSourceOf(
  detail: Pick<ImageDetail, 'correctionRevisionId' | 'groundTruthRevisionId'>,
): 'correction' | 'ground-truth' | null {
  if (detail.correctionRevisionId !== null) return 'correction';
  return detail.groundTruthRevisionId !== null ? 'ground-truth' : null;
}

export const imageSortSchema = z.enum([
  'name',
  'split',
  'state',
  'dice',
  'area',
  'uncertainty',
  // How much the active model's prediction differs from the previous version's (active learning).
  'changed',
  'disagreement',
  // DICOM images: Patient ID and study date (images without them sort last).
  'patient',
  'studyDate',
]);
export type ImageSort = z.infer<typeof imageSortSchema>;

/** Inclusive bounds on a worklist figure; images without the figure never match. */
export const rangeSchema = z.object({
  min: z.number().optional(),
  max: z.number().optional(),
});

export const imageFilterSchema = z.object({
  state: reviewStateSchema.optional(),
  split: splitSchema.optional(),
  /**
   * Only these splits (the active-learning queues leave the locked test split out, so the loop
   * never asks for test labels).
   */
  splits: z.array(splitSchema).max(4).optional(),
  status: imageStatusSchema.optional(),
  /** Case-insensitive substring of the relative path or of a DICOM image's Patient ID. */
  search: z.string().max(500).optional(),
  /** DICOM Modality (CR, DX, ...) and View Position (PA, AP, LL, ...), exact. */
  modality: z.string().max(16).optional(),
  viewPosition: z.string().max(16).optional(),
  hasGroundTruth: z.boolean().optional(),
  hasCorrection: z.boolean().optional(),
  /** A prediction of the active model exists. */
  hasPrediction: z.boolean().optional(),
  /** Ranges over the active model's figures (e.g. dice: { max: 0.5 } for the worst cases). */
  dice: rangeSchema.optional(),
  area: rangeSchema.optional(),
  uncertainty: rangeSchema.optional(),
});
export type ImageFilter = z.infer<typeof imageFilterSchema>;

export const imagesListInputSchema = z.object({
  offset: z.number().int().nonnegative().default(0),
  limit: z.number().int().positive().max(100_000).default(200),
  sort: imageSortSchema.default('name'),
  direction: z.enum(['asc', 'desc']).default('asc'),
  filter: imageFilterSchema.default({}),
  /** Whose 'changed' / 'disagreement' figures to list (default: the active version's). */
  changesOf: z.string().max(64).optional(),
});
export type ImagesListInput = z.input<typeof imagesListInputSchema>;

/** The DICOM facts the worklist shows for the person reviewing (null for other images). */
export const dicomListFactsSchema = z.object({
  patientId: z.string(),
  /** ISO date (YYYY-MM-DD) or ''. */
  studyDate: z.string(),
  modality: z.string(),
  viewPosition: z.string(),
});
export type DicomListFacts = z.infer<typeof dicomListFactsSchema>;

export const dicomDetailSchema = dicomListFactsSchema.extend({
  /** mm between rows and between columns, where the file says (lesion areas in mm2). */
  pixelSpacing: z.tuple([z.number(), z.number()]).nullable(),
  sopInstanceUid: z.string(),
  studyInstanceUid: z.string(),
  seriesInstanceUid: z.string(),
});
export type DicomDetail = z.infer<typeof dicomDetailSchema>;

export const imageListItemSchema = z.object({
  id: idSchema,
  relPath: z.string(),
  name: z.string(),
  split: splitSchema,
  width: z.number().int(),
  height: z.number().int(),
  reviewState: reviewStateSchema,
  hasGroundTruth: z.boolean(),
  hasCorrection: z.boolean(),
  /** A prediction of the active model exists. */
  hasPrediction: z.boolean(),
  /** Dice of the active model's prediction against the label (correction, else ground truth). */
  dice: z.number().nullable(),
  /** Fraction (0..1) of the image the active model predicts as infection. */
  predictedArea: z.number().nullable(),
  /** Mean binary entropy (bits) over the active model's predicted lesion (0 sure .. 1 undecided). */
  uncertainty: z.number().nullable(),
  /** Mean |probability change| of the active model's prediction against the previous version's. */
  changed: z.number().nullable(),
  /** 1 - Dice between the active and the previous version's thresholded predictions. */
  disagreement: z.number().nullable(),
  status: imageStatusSchema,
  /** SHA-256 of the image file as last imported: what the page keys its decoded pixels by. */
  sha256: z.string(),
  dicom: dicomListFactsSchema.nullable().optional(),
  /** Why the image's file could not be shown when last asked for (replaced, damaged), or null. */
  mediaError: z.string().nullable().optional(),
});
export type ImageListItem = z.infer<typeof imageListItemSchema>;

export const imagesListOutputSchema = z.object({
  total: z.number().int().nonnegative(),
  items: z.array(imageListItemSchema),
  /**
   * A team reader's worklist is their queue (images of active plans assigned to them, unread
   * first): how many of them they have read. Absent for everyone else.
   */
  queue: z.object({ read: z.number().int(), total: z.number().int() }).optional(),
});
export type ImagesListOutput = z.infer<typeof imagesListOutputSchema>;

export const predictionFiguresSchema = z.object({
  revisionId: idSchema,
  modelVersion: z.string(),
  predictedArea: z.number(),
  uncertainty: z.number(),
  dice: z.number().nullable(),
});
export type PredictionFigures = z.infer<typeof predictionFiguresSchema>;

export const imageDetailSchema = z.object({
  id: idSchema,
  datasetId: idSchema,
  relPath: z.string(),
  name: z.string(),
  split: splitSchema,
  width: z.number().int(),
  height: z.number().int(),
  bitDepth: z.number().int(),
  channels: z.number().int(),
  sha256: z.string(),
  status: imageStatusSchema,
  reviewState: reviewStateSchema,
  comment: z.string(),
  /** Revision ids (use with `mediaUrl('mask', id)`); null when the layer does not exist. */
  groundTruthRevisionId: idSchema.nullable(),
  correctionRevisionId: idSchema.nullable(),
  /** The label in force: the correction head, else the ground truth. */
  labelRevisionId: idSchema.nullable(),
  /** Newest prediction of the active model (8-bit probability PNG). */
  predictionRevisionId: idSchema.nullable(),
  activeModel: z.string().nullable(),
  prediction: predictionFiguresSchema.nullable(),
  canUndo: z.boolean(),
  canRedo: z.boolean(),
  updatedAt: z.string(),
  reviewedAt: z.string().nullable(),
  /** A DICOM image's kept tags; absent or null for other images. */
  dicom: dicomDetailSchema.nullable().optional(),
  /** The image's file on the host (absolute), so a failure to show it can say where to look. */
  file: z.string().optional(),
  /** Why the image's file could not be shown when last asked for (replaced, damaged), or null. */
  mediaError: z.string().nullable().optional(),
  /**
   * For a team reader: the label layer is their own reading (`labelRevisionId` and
   * `correctionRevisionId` are reading revisions, media kind 'reading'), and whether the model's
   * prediction waits for their first save (reveal-after). Absent for everyone else.
   */
  reading: z
    .object({
      planId: idSchema,
      blind: z.boolean(),
      read: z.boolean(),
      predictionHidden: z.boolean(),
    })
    .optional(),
});
export type ImageDetail = z.infer<typeof imageDetailSchema>;

const imageIdInput = z.object({ imageId: idSchema });

export const masksSaveInputSchema = z.object({
  imageId: idSchema,
  /** Base64 PNG (data: URL prefix allowed), gray or RGB(A); any value > 0 is foreground. */
  png: z
    .string()
    .min(1)
    .max(64 * 1024 * 1024),
  /**
   * The label revision the edit started from (detail.labelRevisionId). When given, a save on top
   * of a label that has moved since (another window, an undo) is refused with 'conflict'. null or
   * absent: no check.
   */
  baseRevisionId: idSchema.nullable().optional(),
  /** Review state after the save; default 'corrected'. */
  reviewState: reviewStateSchema.optional(),
  author: z.string().max(200).optional(),
});
export type MasksSaveInput = z.input<typeof masksSaveInputSchema>;

export const reviewSetInputSchema = z.object({
  imageId: idSchema,
  state: reviewStateSchema.optional(),
  comment: z.string().max(20_000).optional(),
});

export const imagesMetricsInputSchema = z.object({
  imageId: idSchema,
  /** The layer measured (as the prediction); 'label' is the correction, else the ground truth. */
  a: maskLayerSchema,
  /** The reference layer. A layer the image lacks answers 'not-found'. */
  b: maskLayerSchema,
  /** Probability cut for prediction layers (0..1, default 0.5). */
  threshold: z.number().min(0).max(1).optional(),
});

export const imagesMetricsOutputSchema = z.object({
  aRevisionId: idSchema,
  bRevisionId: idSchema,
  /** The stored mask each side resolved to: for 'label', 'correction' or 'ground-truth'. */
  aSource: maskSourceSchema,
  bSource: maskSourceSchema,
  tp: z.number().int(),
  fp: z.number().int(),
  fn: z.number().int(),
  tn: z.number().int(),
  ...maskFigureFields,
});
export type ImagesMetricsOutput = z.infer<typeof imagesMetricsOutputSchema>;

export const maskRevisionInfoSchema = z.object({
  id: idSchema,
  source: maskSourceSchema,
  modelVersion: z.string().nullable(),
  author: z.string(),
  createdAt: z.string(),
  parentId: idSchema.nullable(),
  width: z.number().int(),
  height: z.number().int(),
  foreground: z.number().int(),
});
export type MaskRevisionInfo = z.infer<typeof maskRevisionInfoSchema>;

export const imageFacetsSchema = z.object({
  modalities: z.array(z.string()),
  viewPositions: z.array(z.string()),
});
export type ImageFacets = z.infer<typeof imageFacetsSchema>;

export const reviewMethods = {
  /** One page of the worklist, sorted and filtered in one query. */
  'images.list': { input: imagesListInputSchema, output: imagesListOutputSchema },
  'images.get': { input: z.object({ id: idSchema }), output: imageDetailSchema },
  /** The values the worklist's filters offer: the project's own DICOM modalities and views. */
  'images.facets': { input: noInput, output: imageFacetsSchema },
  /**
   * How the viewer windows a DICOM image's values (the file's VOI presets, MONOCHROME1); null
   * for other images. Read from the file: the project keeps no header.
   */
  'images.display': { input: imageIdInput, output: dicomDisplaySchema.nullable() },
  /** Every mask revision of an image, oldest first (history view). */
  'masks.history': { input: imageIdInput, output: z.array(maskRevisionInfoSchema) },
  /** Saves an edited label as a new correction revision; durable when it resolves. */
  'masks.save': { input: masksSaveInputSchema, output: imageDetailSchema },
  'masks.undo': { input: imageIdInput, output: imageDetailSchema },
  'masks.redo': { input: imageIdInput, output: imageDetailSchema },
  'review.set': { input: reviewSetInputSchema, output: imageDetailSchema },
  /** Pixel metrics of layer a against layer b, saying which stored mask each side was. */
  'images.metrics': { input: imagesMetricsInputSchema, output: imagesMetricsOutputSchema },
} as const;

export const reviewEvents = {
  /** Images changed (import, predictions, a save in another window); the worklist refetches. */
  'images.changed': z.object({
    reason: z.enum(['import', 'prediction', 'review', 'mask']),
    /** The images concerned; absent when many changed. */
    imageIds: z.array(idSchema).optional(),
  }),
} as const;
