import { z } from 'zod';

/** Input of a method that takes no arguments: `{}` or nothing. */
export const noInput = z.object({}).strict().optional();

/** Positive integer id of a database row. */
export const idSchema = z.number().int().positive();

/** The figures of src/shared/metrics.ts (`MaskMetrics` less the counts), as zod fields. */
export const maskFigureFields = {
  dice: z.number(),
  iou: z.number(),
  precision: z.number(),
  recall: z.number(),
  specificity: z.number(),
  accuracy: z.number(),
};
