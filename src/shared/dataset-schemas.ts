/**
 * Schemas and types of the dataset room (import report, options, datasets). Imports nothing from
 * ./contract, so core and CLI modules may import this file first without an import cycle.
 */
import { z } from 'zod';
import { hostPathSchema } from './schema-helpers';

/** What an import found; `qataseg import --json` prints exactly this object. */
export const importReportSchema = z.object({
  /** Images imported with a usable ground-truth mask. */
  pairs: z.number().int().nonnegative(),
  /** Images imported without one (control groups not counted: they have no masks by design). */
  imagesWithoutMask: z.number().int().nonnegative(),
  /** Mask files that belong to no image. */
  orphanMasks: z.number().int().nonnegative(),
  /** Files left out, relative to the dataset root, with why. */
  skipped: z.array(z.object({ path: z.string(), reason: z.string() })),
  /** Imported, but worth a look (a mask with values other than 0/1 or 0/255, a vanished mask). */
  warnings: z.array(z.object({ path: z.string(), message: z.string() })),
  /** Images per split found by this import. */
  splits: z.object({
    train: z.number().int().nonnegative(),
    test: z.number().int().nonnegative(),
    control: z.number().int().nonnegative(),
    unassigned: z.number().int().nonnegative(),
  }),
});
export type ImportReport = z.infer<typeof importReportSchema>;

/** What a re-import changed in the project. */
export const importRefreshSchema = z.object({
  added: z.number().int().nonnegative(),
  unchanged: z.number().int().nonnegative(),
  changed: z.number().int().nonnegative(),
  /** Images of earlier imports whose file is gone (kept, marked missing). */
  missing: z.number().int().nonnegative(),
  /** Images marked missing before that are back. */
  restored: z.number().int().nonnegative(),
  groundTruthsUpdated: z.number().int().nonnegative(),
});
export type ImportRefresh = z.infer<typeof importRefreshSchema>;

/** The result of a `dataset.import` job. */
export const importResultSchema = z.object({
  datasetId: z.number().int().positive(),
  root: z.string(),
  layout: z.string(),
  report: importReportSchema,
  refresh: importRefreshSchema,
  seconds: z.number().nonnegative(),
});
export type ImportResult = z.infer<typeof importResultSchema>;

/**
 * Default limit on an image's pixels: 64 Mi (8192 x 8192), above every chest X-ray detector
 * (about 4300 x 4300 at 0.1 mm) with room to spare. A larger image is listed in an import's
 * `skipped` from its header, before any decoding.
 */
export const DEFAULT_MAX_IMAGE_PIXELS = 8192 * 8192;

/** The most pixels any image or mask is ever decoded with (sharp's own limit, 16383 x 16383). */
export const MAX_DECODABLE_PIXELS = 16383 * 16383;

export const importInputSchema = z.object({
  /**
   * The dataset folder (read only; nothing is written there): absolute, `~` the home folder, or
   * relative to the project folder.
   */
  root: hostPathSchema,
  /** Mask file name with `{name}` (image file name) or `{stem}` (without extension). */
  maskPattern: z
    .string()
    .regex(/\{(name|stem)\}/, 'the mask pattern needs {name} or {stem}')
    .optional(),
  /** Control-group images get an empty ground truth and the review state negative. */
  controlsAsNegative: z.boolean().optional(),
  /** Images (and masks) with more pixels are skipped (default DEFAULT_MAX_IMAGE_PIXELS). */
  maxPixels: z.number().int().positive().max(MAX_DECODABLE_PIXELS).optional(),
});
export type ImportInput = z.infer<typeof importInputSchema>;

export const datasetInfoSchema = z.object({
  id: z.number().int().positive(),
  root: z.string(),
  layout: z.string(),
  maskPattern: z.string().nullable(),
  controlsAsNegative: z.boolean(),
  createdAt: z.string(),
  importedAt: z.string(),
  report: importReportSchema.nullable(),
});
export type DatasetInfo = z.infer<typeof datasetInfoSchema>;
