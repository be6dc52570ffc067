/**
 * Parameters and results of the ML worker's jobs (host -> worker -> host). Validated with zod in
 * the worker: the host and the worker can be different builds after an update.
 */
import { z } from 'zod';
import {
  modelCardSchema,
  epochRecordSchema,
  evaluationSplitSchema,
  labelSourceSchema,
  lossNameSchema,
  perImageScoreSchema,
  skippedImageSchema,
  splitMetricsSchema,
} from '../../shared/contract-ml';
import { externalModelConfigSchema } from '../../shared/interop-schemas';
import { uncertaintyCalibrationSchema } from '../../shared/uncertainty-schemas';

/** An external ONNX model: its file in the version folder and its config. */
export const externalJobModelSchema = z.object({
  file: z.string(),
  config: externalModelConfigSchema,
});
export type ExternalJobModel = z.infer<typeof externalJobModelSchema>;

export const trainJobParamsSchema = z.object({
  projectDir: z.string(),
  version: z.string(),
  modelDir: z.string(),
  /** Folder of the model to fine-tune from, or null for scratch. */
  initialModelDir: z.string().nullable(),
  resume: z.boolean(),
  size: z.number().int(),
  base: z.number().int(),
  batch: z.number().int(),
  epochs: z.number().int(),
  learningRate: z.number(),
  seed: z.number().int(),
  loss: lossNameSchema,
  dropout: z.number(),
  augment: z.boolean(),
  valFraction: z.number(),
  labels: z.array(labelSourceSchema),
  /** Whose labels train: final (default), consensus[:method], reader:NAME (label-source.ts). */
  labelSource: z.string().optional(),
  inputMode: z.enum(['resize', 'tile']).default('resize'),
});
export type TrainJobParams = z.infer<typeof trainJobParamsSchema>;

export const trainJobResultSchema = z.object({
  backend: z.string(),
  parameters: z.number().int(),
  history: z.array(epochRecordSchema),
  bestEpoch: z.number().int(),
  trainSeconds: z.number(),
  imagesPerSecond: z.number(),
  parallelism: z.string().optional(),
  data: z.object({
    splitHash: z.string(),
    testSplitHash: z.string(),
    labelSetHash: z.string(),
    train: z.number().int(),
    val: z.number().int(),
    test: z.number().int(),
    skipped: z.array(skippedImageSchema),
  }),
  metrics: z.object({ val: splitMetricsSchema.nullable(), test: splitMetricsSchema.nullable() }),
  testPerImage: z.array(perImageScoreSchema),
  /** Null for tiled training (its predictions are not scored from passes). */
  uncertaintyCalibration: uncertaintyCalibrationSchema.nullable().default(null),
});
export type TrainJobResult = z.infer<typeof trainJobResultSchema>;

export const predictJobParamsSchema = z.object({
  projectDir: z.string(),
  modelDir: z.string(),
  size: z.number().int(),
  /** Null: every image of the project. */
  imageIds: z.array(z.number().int()).nullable(),
  /** Overlap-tile at native resolution instead of resizing to the input size. */
  tile: z.boolean().default(false),
  /** An external ONNX model instead of the U-Net of modelDir. */
  external: externalJobModelSchema.optional(),
  /**
   * Predictions per image for the uncertainty score (the U-Net under test-time transforms,
   * ./tta.ts); 1: the score from the plain map alone. The stored map is always the plain one.
   */
  passes: z.number().int().min(1).max(8).default(1),
  /** The version's calibrated score (its model card); null: passesUncertainty. */
  calibration: uncertaintyCalibrationSchema.nullable().default(null),
});
export type PredictJobParams = z.infer<typeof predictJobParamsSchema>;

export const evaluateJobParamsSchema = z.object({
  projectDir: z.string(),
  modelDir: z.string(),
  size: z.number().int(),
  split: evaluationSplitSchema,
  threshold: z.number(),
  /** Overlap-tile at native resolution (models trained in tile mode). */
  tile: z.boolean().default(false),
  /** For split 'val': the card's seed and fraction and label set reproduce the hold-out. */
  valFraction: z.number().default(0.1),
  seed: z.number().int().default(1),
  labels: z.array(labelSourceSchema).default(['ground-truth', 'accepted', 'corrected']),
  /** Whose labels the prediction is measured against (label-source.ts); absent: final. */
  labelSource: z.string().optional(),
  /** An external ONNX model instead of the U-Net of modelDir. */
  external: externalJobModelSchema.optional(),
  /** Evaluate this version's stored (imported) predictions instead of running a model. */
  stored: z.string().optional(),
});
export type EvaluateJobParams = z.infer<typeof evaluateJobParamsSchema>;

/** A prediction streamed from the worker as a progress message; the host stores it. */
export interface PredictionMessage {
  kind: 'prediction';
  imageId: number;
  /** The image's path in its dataset, to name it if the host cannot store the prediction. */
  image: string;
  width: number;
  height: number;
  /** 0..255 probability per pixel, row-major. */
  probabilities: Uint8Array;
  /** The uncertainty score of several passes; absent: the host scores the map alone. */
  uncertainty?: number;
  /** Model runs this image took (the test-time passes). */
  passes: number;
  done: number;
  total: number;
}

/** A checked ONNX export (../onnx/export-model.ts planModelExport) for the worker to write. */
export const modelExportJobParamsSchema = z.object({
  card: modelCardSchema,
  modelDir: z.string(),
  file: z.string(),
  description: z.string(),
});
