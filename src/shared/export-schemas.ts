/**
 * Schemas and types of the export room. Imports nothing from ./contract, so core, CLI and renderer
 * modules may import this file first without an import cycle (./contract-export re-exports it).
 */
import { z } from 'zod';
import { reviewStateSchema, splitSchema } from './contract-review';
import { labelSourceTextSchema } from './label-source-schemas';
import { hostPathSchema } from './schema-helpers';

/**
 * Which mask of each image: `best` (the correction in force, else the ground truth, else the
 * prediction of the model), `corrected` (only images with a correction), `predicted` (a model
 * version's newest prediction, thresholded), `ground-truth` (the imported mask).
 */
export const exportSourceSchema = z.enum(['best', 'corrected', 'predicted', 'ground-truth']);
export type ExportSource = z.infer<typeof exportSourceSchema>;

/**
 * `png` 8-bit gray 0/255; `png01` 8-bit gray 0/1; `probability` 8-bit probability 0..255 (binary
 * masks give 0/255); `overlay` the image in gray with the mask contour in red (RGB PNG);
 * `coco` one COCO JSON with an uncompressed column-major RLE per image; `nnunet` nnU-Net v2's raw
 * dataset (images, 0/1 labels, dataset.json, splits_final.json); `nifti` image and 0/1 mask as
 * .nii.gz; `dicom-seg` one binary DICOM SEG per image (with a Secondary Capture of images that
 * were not DICOM).
 */
export const exportFormatSchema = z.enum([
  'png',
  'png01',
  'probability',
  'overlay',
  'coco',
  'nnunet',
  'nifti',
  'dicom-seg',
]);
export type ExportFormat = z.infer<typeof exportFormatSchema>;

export const exportInputSchema = z
  .object({
    /**
     * Output folder (created if needed); relative to the project folder unless absolute, `~` the
     * home folder. Refused when it is in, or holds, a dataset folder or the project.
     */
    out: hostPathSchema,
    source: exportSourceSchema.default('best'),
    /**
     * Team review's label source, instead of `source` when given: final (the label in force, no
     * prediction fallback), consensus[:staple|vote] or reader:NAME (see label-source-schemas).
     */
    labelSource: labelSourceTextSchema.optional(),
    format: exportFormatSchema.default('png'),
    /** Only images in these review states (default: all). */
    states: z.array(reviewStateSchema).optional(),
    /** Only images of these splits (default: all). */
    splits: z.array(splitSchema).optional(),
    /** Model version of predictions (default: the project's active model). */
    model: z.string().min(1).optional(),
    /** Probability at or above which a predicted pixel is foreground. */
    threshold: z.number().gt(0).max(1).default(0.5),
    /** Replace files that exist; without it an export that would replace any file is refused. */
    overwrite: z.boolean().default(false),
    /** Also copy each source image to `<folder>/Images/<name>`, so OUT is a complete dataset. */
    copyImages: z.boolean().default(false),
    /** nnunet: the dataset's number (1..999) and name, as in `Dataset<NNN>_<NAME>`. */
    datasetId: z.number().int().min(1).max(999).optional(),
    datasetName: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a dataset name is letters, digits, _ and -')
      .optional(),
    /** dicom-seg: PS3.15 Annex E basic profile (patient data removed, new UIDs across the export). */
    deidentify: z.boolean().default(false),
  })
  .refine(
    (input) => input.format !== 'nnunet' || (input.datasetId !== undefined && !!input.datasetName),
    {
      message: 'the nnunet format needs a dataset id (1..999) and a dataset name',
      path: ['datasetId'],
    },
  );
export type ExportInput = z.input<typeof exportInputSchema>;
export type ExportOptions = z.output<typeof exportInputSchema>;

export const exportSkipSchema = z.object({ image: z.string(), reason: z.string() });
export type ExportSkip = z.infer<typeof exportSkipSchema>;

/** What an export would do (`export.plan`): nothing is written. */
export const exportPlanSchema = z.object({
  /** The absolute output folder the export writes to. */
  out: z.string(),
  /** Masks that will be written. */
  masks: z.number().int().nonnegative(),
  /** Images left out up front (no mask of the source), with why. */
  skipped: z.array(exportSkipSchema),
  /** Files that already exist (first ones only) and how many there are in all. */
  conflicts: z.array(z.string()),
  conflictCount: z.number().int().nonnegative(),
  model: z.string().nullable(),
});
export type ExportPlan = z.infer<typeof exportPlanSchema>;

/** The result of an `export.start` job; `qataseg export --json` prints it. */
export const exportResultSchema = z.object({
  out: z.string(),
  manifest: z.string(),
  source: exportSourceSchema,
  format: exportFormatSchema,
  model: z.string().nullable(),
  /** Masks written (for coco: images in the JSON). */
  masks: z.number().int().nonnegative(),
  /** Files written, relative to `out` ('/' separators), manifest included. */
  files: z.array(z.string()),
  skipped: z.array(exportSkipSchema),
  seconds: z.number().nonnegative(),
  masksPerSecond: z.number().nonnegative(),
});
export type ExportResult = z.infer<typeof exportResultSchema>;

/**
 * The segment a DICOM SEG export writes: its label (Segment Label, a DICOM LO: at most 64
 * characters, no backslash or control characters) and its display colour. Kept in the project's
 * settings; the SNOMED CT codes of the segment do not change with it.
 */
export const segmentLabelSchema = z.object({
  name: z
    .string()
    .trim()
    .min(1, 'a segment label needs a name')
    .max(64, 'a segment label is at most 64 characters (DICOM LO)')
    // eslint-disable-next-line no-control-regex -- control characters are what is refused.
    .regex(/^[^\\\x00-\x1f\x7f]*$/, 'a segment label has no backslash or control characters'),
  colour: z
    .string()
    .regex(/^#[0-9a-fA-F]{6}$/, 'a colour is #RRGGBB')
    .transform((colour) => colour.toLowerCase()),
});
export type SegmentLabel = z.output<typeof segmentLabelSchema>;
