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

/**
 * A path on the host's disk that a user typed or picked. Control characters are refused here: a
 * NUL cuts a path short for the operating system and fails only later, and no real folder name
 * needs one. A relative path is relative to the project folder (see core/guarded-files).
 */
export const hostPathSchema = z
  .string()
  .min(1)
  .max(4096)
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  .refine((value) => !/[\u0000-\u001f\u007f]/.test(value), {
    message: 'a path cannot contain NUL or other control characters',
  });
