/**
 * Contract entries of the ml room, spread into `methods` and `events` of ./contract.ts.
 * Each method: { input: zod schema, output: zod schema }; each event: a zod schema.
 *
 * ./contract imports this file, so shared schemas from it are referenced lazily (z.lazy).
 */
import { z } from 'zod';
import { jobSchema, backendNameSchema, ladderStepSchema } from './common-schemas';
import { idSchema, maskFigureFields } from './schema-helpers';
import { inputModeSchema, modelSourceSchema, scalingSchema } from './interop-schemas';
import { labelSourceTextSchema } from './label-source-schemas';
import { uncertaintyCalibrationSchema } from './uncertainty-schemas';

const job = z.lazy(() => jobSchema);
const backendName = z.lazy(() => backendNameSchema);
const ladderStep = z.lazy(() => ladderStepSchema);

export const labelSourceSchema = z.enum(['ground-truth', 'accepted', 'corrected']);
export type LabelSourceName = z.infer<typeof labelSourceSchema>;

export const lossNameSchema = z.enum(['bce', 'dice', 'bce-dice', 'weighted-bce']);

export const evaluationSplitSchema = z.enum(['train', 'val', 'test', 'control', 'all']);
export type EvaluationSplit = z.infer<typeof evaluationSplitSchema>;

const versionSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a model version is letters, digits, . _ -');

export const trainParamsSchema = z.object({
  epochs: z.number().int().min(1).max(10_000).default(20),
  size: z
    .number()
    .int()
    .min(16)
    .max(1024)
    .refine((n) => n % 16 === 0, 'size must be a multiple of 16')
    .default(256),
  base: z.number().int().min(4).max(64).default(16),
  batch: z.number().int().min(1).max(64).default(4),
  learningRate: z.number().positive().max(1).default(1e-3),
  seed: z.number().int().nonnegative().default(1),
  loss: lossNameSchema.default('bce-dice'),
  dropout: z.number().min(0).max(0.9).default(0),
  augment: z.boolean().default(true),
  /** Fraction of the train split held out (seeded) for validation. */
  valFraction: z.number().min(0).max(0.5).default(0.1),
  labels: z.array(labelSourceSchema).min(1).default(['ground-truth', 'accepted', 'corrected']),
  /**
   * Whose labels train (team review): final (the label in force, default), consensus,
   * consensus:staple|vote, or reader:NAME. The locked test split keeps the label in force.
   */
  labelSource: labelSourceTextSchema.optional(),
  /** Fine-tune from this version ('active' for the active one); scratch when absent. */
  from: z.string().nullable().default(null),
  /**
   * How images reach the network: 'resize' scales each whole image to `size` (training and
   * prediction alike); 'tile' trains on seeded size x size crops at the image's own resolution and
   * predicts by overlap-tile (for images larger than the input, the U-Net paper's strategy).
   */
  inputMode: z.enum(['resize', 'tile']).default('resize'),
  /** When the finished version becomes active. */
  promote: z.enum(['never', 'if-better', 'always']).default('if-better'),
});
export type TrainParams = z.output<typeof trainParamsSchema>;
export type TrainParamsInput = z.input<typeof trainParamsSchema>;

export const epochRecordSchema = z.object({
  epoch: z.number().int(),
  loss: z.number(),
  valDice: z.number().nullable(),
  seconds: z.number(),
  imagesPerSecond: z.number(),
});
export type EpochRecordInfo = z.infer<typeof epochRecordSchema>;

export const splitMetricsSchema = z.object({
  images: z.number().int(),
  ...maskFigureFields,
});
export type SplitMetrics = z.infer<typeof splitMetricsSchema>;

export const perImageScoreSchema = z.object({
  imageId: idSchema,
  image: z.string(),
  dice: z.number(),
  iou: z.number(),
});
export type PerImageScore = z.infer<typeof perImageScoreSchema>;

/** An image a job left out because it could not be read or no longer matches its import. */
export const skippedImageSchema = z.object({
  imageId: idSchema,
  image: z.string(),
  reason: z.string(),
});
export type SkippedImage = z.infer<typeof skippedImageSchema>;

export const modelCardSchema = z.object({
  version: z.string(),
  createdAt: z.string(),
  parent: z.string().nullable(),
  /** Where the version came from: trained here, an external ONNX model, or imported predictions. */
  source: modelSourceSchema.default({ kind: 'trained' }),
  /** The U-Net's shape; null for external versions. */
  architecture: z
    .object({
      name: z.literal('unet'),
      depth: z.number().int(),
      base: z.number().int(),
      size: z.number().int(),
      dropout: z.number(),
      channels: z.number().int(),
      parameters: z.number().int(),
    })
    .nullable(),
  /** How images reach the network (see trainParamsSchema.inputMode; external: their config). */
  input: z.object({ mode: inputModeSchema, normalisation: scalingSchema }),
  /** The engine it was trained (external: run) on; null for imported predictions. */
  backend: backendName.nullable(),
  /** The runtime ladder as the worker walked it: why each faster backend was not used. */
  ladder: z.array(ladderStep).default([]),
  /** Null for external versions (not trained here). */
  hyperParameters: z
    .object({
      epochs: z.number().int(),
      batch: z.number().int(),
      learningRate: z.number(),
      seed: z.number().int(),
      loss: lossNameSchema,
      augment: z.boolean(),
      valFraction: z.number(),
    })
    .nullable(),
  data: z.object({
    labels: z.array(labelSourceSchema),
    /** The `--source` of the labels (absent: final, the label in force). */
    labelSource: z.string().optional(),
    labelSetHash: z.string(),
    splitHash: z.string(),
    testSplitHash: z.string(),
    train: z.number().int(),
    val: z.number().int(),
    test: z.number().int(),
    /** Images of the splits left out (unreadable); the counts and hashes are without them. */
    skipped: z.array(skippedImageSchema).optional(),
  }),
  history: z.array(epochRecordSchema),
  bestEpoch: z.number().int(),
  metrics: z.object({ val: splitMetricsSchema.nullable(), test: splitMetricsSchema.nullable() }),
  testPerImage: z.array(perImageScoreSchema),
  /**
   * The uncertainty score's per-model calibration, fitted when training ended; absent for external
   * versions and versions trained before it (their prediction jobs store passesUncertainty).
   */
  uncertaintyCalibration: uncertaintyCalibrationSchema.optional(),
  durationSeconds: z.number(),
  trainSeconds: z.number(),
  imagesPerSecond: z.number(),
  /** How this run's training steps ran across threads, e.g. split across 2 replica threads. */
  parallelism: z.string().optional(),
});
export type ModelCard = z.infer<typeof modelCardSchema>;

export const modelSummarySchema = z.object({
  version: z.string(),
  /**
   * 'complete' has a card; 'incomplete' was cancelled or crashed and can be resumed; 'damaged' has
   * a file that cannot be read (see `damage`).
   */
  state: z.enum(['complete', 'incomplete', 'damaged']),
  /** Why a damaged version cannot be used: which file, and what is wrong with it. */
  damage: z.string().optional(),
  active: z.boolean(),
  /** The version "Roll back" makes active again (the one active before the current one). */
  rollbackTarget: z.boolean().optional(),
  createdAt: z.string().nullable(),
  parent: z.string().nullable(),
  base: z.number().int().nullable(),
  size: z.number().int().nullable(),
  backend: z.string().nullable(),
  epochs: z.number().int().nullable(),
  epochsDone: z.number().int(),
  valDice: z.number().nullable(),
  testDice: z.number().nullable(),
  /** trained here, an external ONNX model, or imported predictions. */
  source: z.enum(['trained', 'onnx', 'predictions']).optional(),
  /** File or folder an external version came from. */
  origin: z.string().nullable().optional(),
  /** Size of the model's files on disk (null for imported predictions). */
  bytes: z.number().int().nonnegative().nullable().optional(),
  /** How images go in, e.g. "256x256 resize" or "dynamic native". */
  input: z.string().nullable().optional(),
});
export type ModelSummary = z.infer<typeof modelSummarySchema>;

export const evaluationSchema = z.object({
  model: z.string(),
  split: evaluationSplitSchema,
  threshold: z.number(),
  images: z.number().int(),
  ...maskFigureFields,
  perImage: z.array(perImageScoreSchema),
  /** Images of the split that could not be evaluated, with why. */
  skipped: z.array(skippedImageSchema).optional(),
});
export type Evaluation = z.infer<typeof evaluationSchema>;

const pairFigures = z.object({ dice: z.number(), iou: z.number() });

export const modelComparisonSchema = z.object({
  a: z.string(),
  b: z.string(),
  /** False when the two versions were tested on different test splits (figures not comparable). */
  sameTestSplit: z.boolean(),
  splits: z.object({
    val: z.object({ a: pairFigures.nullable(), b: pairFigures.nullable() }),
    test: z.object({ a: pairFigures.nullable(), b: pairFigures.nullable() }),
  }),
  /** Per test image: Dice of a and b; a win is b better than a by more than 0.001. */
  perImage: z.array(
    z.object({
      imageId: idSchema,
      image: z.string(),
      a: z.number(),
      b: z.number(),
      delta: z.number(),
    }),
  ),
  wins: z.number().int(),
  losses: z.number().int(),
  ties: z.number().int(),
});
export type ModelComparison = z.infer<typeof modelComparisonSchema>;

export const memoryEstimateSchema = z.object({
  bytes: z.number(),
  limit: z.number().nullable(),
  fits: z.boolean(),
  backend: z.string(),
  message: z.string().nullable(),
});

export const mlMethods = {
  'train.start': { input: trainParamsSchema, output: job },
  'train.resume': { input: z.object({ version: versionSchema }), output: job },
  'train.estimate': {
    input: z.object({
      size: z.number().int().min(16).max(1024),
      base: z.number().int().min(4).max(64),
      batch: z.number().int().min(1).max(64),
    }),
    output: memoryEstimateSchema,
  },
  'predict.start': {
    input: z.object({
      model: versionSchema.optional(),
      imageIds: z.array(idSchema).max(1_000_000).optional(),
      /**
       * Model runs per image for the uncertainty score (test-time flips and shifts); default 4.
       * 1 scores the plain map alone. The stored map is the plain prediction either way.
       */
      passes: z.number().int().min(1).max(8).optional(),
    }),
    output: job,
  },
  'evaluate.run': {
    input: z.object({
      model: versionSchema.optional(),
      split: evaluationSplitSchema.default('test'),
      threshold: z.number().min(0).max(1).default(0.5),
      /** Whose labels the predictions are measured against: final (default), consensus, reader:NAME. */
      labelSource: labelSourceTextSchema.optional(),
    }),
    output: evaluationSchema,
  },
  'models.list': { input: z.object({}).strict().optional(), output: z.array(modelSummarySchema) },
  'models.get': { input: z.object({ version: versionSchema }), output: modelCardSchema },
  'models.promote': {
    input: z.object({
      version: versionSchema,
      /**
       * Promote even though the version is worse than the active one on the locked test split
       * (without it such a promotion is refused with 'conflict', saying by how much).
       */
      confirmWorse: z.boolean().optional(),
    }),
    output: z.object({ active: z.string().nullable() }),
  },
  'models.rollback': {
    input: z.object({}).strict().optional(),
    output: z.object({ active: z.string().nullable() }),
  },
  'models.compare': {
    input: z.object({ a: versionSchema, b: versionSchema }),
    output: modelComparisonSchema,
  },
  /**
   * What changed / version disagreement for any version: predicts it and the version it is
   * compared with (the active one, or the one active before it) where they lack predictions, then
   * measures per image how the predictions differ (images.list sorts 'changed', 'disagreement' with
   * changesOf = the version). 'conflict' says why when there is nothing to compare it with.
   */
  'changes.start': {
    input: z.object({ version: versionSchema.optional() }),
    output: job,
  },
} as const;

export const mlEvents = {
  /** A version was added, finished, promoted or rolled back. */
  'models.changed': z.object({ active: z.string().nullable() }),
} as const;
