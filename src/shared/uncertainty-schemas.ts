/**
 * The per-model calibration of the uncertainty score, stored in a trained version's model card
 * and applied by its prediction jobs (src/core/math/uncertainty-calibration.ts).
 */
import { z } from 'zod';

/** Label-free features of a prediction's test-time passes (src/core/math/uncertainty-features.ts). */
export const PREDICTION_FEATURE_NAMES = [
  'score',
  'plain',
  'disagreement',
  'drawn',
  'anyDrawn',
  'empty',
  'maxP',
  'background',
  'rise',
  'drawnMean',
  'passDice',
] as const;
export const predictionFeatureNameSchema = z.enum(PREDICTION_FEATURE_NAMES);
export type PredictionFeatureName = z.infer<typeof predictionFeatureNameSchema>;

/**
 * A monotone (isotonic) map from one feature to the expected 1 - Dice: the fitted points, x
 * ascending, y the fitted error (non-decreasing in x when `increasing`, else non-increasing);
 * between points linear, outside them the end value.
 */
export const calibrationPartSchema = z
  .object({
    feature: predictionFeatureNameSchema,
    increasing: z.boolean(),
    x: z.array(z.number()).min(1),
    y: z.array(z.number().min(0).max(1)).min(1),
    /** Calibration images in this part, and the Spearman of the feature with their error. */
    images: z.number().int().nonnegative(),
    spearman: z.number(),
  })
  .refine((part) => part.x.length === part.y.length, 'x and y differ in length')
  .refine((part) => part.x.every((value, i) => i === 0 || value >= part.x[i - 1]), 'x must ascend');
export type CalibrationPart = z.infer<typeof calibrationPartSchema>;

export const uncertaintyCalibrationSchema = z.object({
  kind: z.literal('isotonic-two-part'),
  /** Test-time passes the features were computed from; prediction jobs with another count fall back. */
  passes: z.number().int().min(2).max(8),
  /** Labelled images it was fitted on (the version's validation and training images). */
  images: z.number().int().positive(),
  /** Images whose plain prediction draws nothing, and the share of them that missed a lesion. */
  empty: calibrationPartSchema,
  /** Images with something drawn. */
  drawn: calibrationPartSchema,
  /** Among the empty predictions fitted on, the share whose label had a lesion (a miss). */
  emptyMissRate: z.number().min(0).max(1).nullable(),
});
export type UncertaintyCalibration = z.infer<typeof uncertaintyCalibrationSchema>;
