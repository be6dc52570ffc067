/**
 * Schemas of the research interop (models out as ONNX, external models and predictions in).
 * Imports nothing from ./contract, so core, CLI and renderer modules may import it directly.
 */
import { z } from 'zod';
import { importReportSchema } from './dataset-schemas';

const positiveInt = z.number().int().positive();

/**
 * How an image reaches an external network. Gray 8-bit pixels v (0..255) are scaled before the
 * network: `0..1` v / 255; `-1..1` v / 127.5 - 1; `z-score` (v - mean) / std of each image;
 * `mean-std` (v / 255 - mean[c]) / std[c] per channel (torchvision's Normalize after ToTensor).
 */
export const scalingSchema = z.enum(['0..1', '-1..1', 'z-score', 'mean-std']);
export type Scaling = z.infer<typeof scalingSchema>;

/** `resize` the whole image to the input size; `tile` overlap-tile at native resolution; `native` the whole image at its own size (dynamic graphs). */
export const inputModeSchema = z.enum(['resize', 'tile', 'native']);

export const externalInputSchema = z
  .object({
    /** Graph input name; needed only when the graph has several inputs. */
    name: z.string().min(1).optional(),
    layout: z.enum(['NCHW', 'NHWC']),
    /** 1 gray, or 3 with the gray image replicated into each channel. */
    channels: z.union([z.literal(1), z.literal(3)]),
    /** Input height and width (a number for square), or 'dynamic' when the graph takes any size. */
    size: z.union([positiveInt, z.tuple([positiveInt, positiveInt]), z.literal('dynamic')]),
    /** Default: resize with a size, native when dynamic. */
    mode: inputModeSchema.optional(),
    /** native mode: images are edge-padded to a multiple of this (and cropped back). */
    multiple: positiveInt.max(1024).default(1),
    scaling: scalingSchema,
    /** mean-std: one value per channel. */
    mean: z.array(z.number()).optional(),
    std: z.array(z.number().positive()).optional(),
  })
  .superRefine((input, context) => {
    const issue = (message: string) => context.addIssue({ code: 'custom', message });
    const dynamic = input.size === 'dynamic';
    const mode = input.mode ?? (dynamic ? 'native' : 'resize');
    if (dynamic && mode !== 'native')
      issue(`input mode ${mode} needs an input size; a dynamic input goes in at native size`);
    if (!dynamic && mode === 'native')
      issue('input mode native needs size "dynamic" (the graph must take any size)');
    if (input.scaling === 'mean-std') {
      if (input.mean?.length !== input.channels || input.std?.length !== input.channels)
        issue(`scaling mean-std needs mean and std with ${input.channels} value(s) each`);
    }
  });

export const externalOutputSchema = z
  .object({
    /** Graph output name; needed only when the graph has several outputs. */
    name: z.string().min(1).optional(),
    /** `logits`: sigmoid (one channel) or softmax (K classes) is applied here. */
    activation: z.enum(['logits', 'probabilities']),
    /** 1 channel (foreground probability or logit), or K classes. */
    classes: positiveInt.max(1000),
    /** The foreground class's channel (0 for one channel). */
    foreground: z.number().int().nonnegative().default(0),
    /** Probability at or above which a pixel is foreground. */
    threshold: z.number().gt(0).lt(1).default(0.5),
  })
  .refine((output) => output.foreground < output.classes, {
    message: 'output.foreground must be a channel index below output.classes',
  });

/**
 * What `qataseg add-model --config` reads: how images go in and what comes out. Other keys of the
 * file are ignored, so the `model.json` that `qataseg export-model` writes is a valid config.
 */
export const externalModelConfigSchema = z.object({
  input: externalInputSchema,
  output: externalOutputSchema,
});
export type ExternalModelConfig = z.output<typeof externalModelConfigSchema>;
export type ExternalModelConfigInput = z.input<typeof externalModelConfigSchema>;

/** One input or output of an ONNX graph as its ValueInfo declares it. */
export const onnxValueInfoSchema = z.object({
  name: z.string(),
  /** TensorProto element type name (float, float16, uint8, ...). */
  type: z.string(),
  /** Sizes, symbolic names for dynamic dimensions, null where nothing is declared. */
  dims: z.array(z.union([z.number().int(), z.string(), z.null()])).nullable(),
});
export type OnnxValueInfo = z.infer<typeof onnxValueInfoSchema>;

/** What an ONNX file says about itself, read without running it. */
export const onnxGraphInfoSchema = z.object({
  irVersion: z.number().int(),
  producer: z.string(),
  opsets: z.array(z.object({ domain: z.string(), version: z.number().int() })),
  inputs: z.array(onnxValueInfoSchema),
  outputs: z.array(onnxValueInfoSchema),
  /** Operator types used, with their domain when not the default one (com.microsoft:FusedMatMul). */
  operators: z.array(z.string()),
  nodes: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  /**
   * The `model.json` beside the file (as `qataseg export-model` and other tools write it): its
   * config when it is one, else why not; null when there is none.
   */
  beside: z
    .object({
      file: z.string(),
      config: externalModelConfigSchema.nullable(),
      problem: z.string().nullable(),
    })
    .nullable()
    .optional(),
});
export type OnnxGraphInfo = z.infer<typeof onnxGraphInfoSchema>;

/** Result of exporting a version as ONNX (`qataseg export-model --json`). */
export const exportModelResultSchema = z.object({
  version: z.string(),
  /** The .onnx file and the model.json beside it (absolute paths). */
  file: z.string(),
  description: z.string(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string(),
  inputShape: z.array(z.union([z.number().int(), z.string()])),
  outputShape: z.array(z.union([z.number().int(), z.string()])),
});
export type ExportModelResult = z.infer<typeof exportModelResultSchema>;

export const exportModelInputSchema = z.object({
  /** Version to export ('active' or absent: the active one). */
  version: z.string().min(1).optional(),
  /** Path of the .onnx file; model.json is written beside it. */
  out: z.string().min(1),
  overwrite: z.boolean().default(false),
});
export type ExportModelInput = z.input<typeof exportModelInputSchema>;

/** Where a model version came from (its card's `source`). */
export const modelSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('trained') }),
  z.object({
    kind: z.literal('onnx'),
    /** The file it was added from (the version keeps its own copy, `model.onnx`). */
    path: z.string(),
    file: z.string(),
    bytes: z.number().int().nonnegative(),
    sha256: z.string(),
    addedAt: z.string(),
    graph: onnxGraphInfoSchema,
    config: externalModelConfigSchema,
  }),
  z.object({
    kind: z.literal('predictions'),
    /** The folder they were imported from. */
    path: z.string(),
    importedAt: z.string(),
    /** Probability maps (true) or binary masks (false). */
    probability: z.boolean(),
    /** Files per format (png, nifti, ...). */
    formats: z.record(z.string(), z.number().int()),
    pairs: z.number().int().nonnegative(),
    unmatched: z.number().int().nonnegative(),
    skipped: z.number().int().nonnegative(),
  }),
]);
export type ModelSource = z.infer<typeof modelSourceSchema>;

/** Result of an add-model job (`qataseg add-model --json`). */
export const addModelResultSchema = z.object({
  version: z.string(),
  /** Dice on the locked test split (null when the split has no labelled image). */
  testDice: z.number().nullable(),
  testImages: z.number().int().nonnegative(),
  /** Shapes of the blank image run through the model when it was added. */
  checked: z.object({ input: z.array(z.number().int()), output: z.array(z.number().int()) }),
});
export type AddModelResult = z.infer<typeof addModelResultSchema>;

/** Result of an import-predictions job (`qataseg import-predictions --json`). */
export const importPredictionsResultSchema = z.object({
  version: z.string(),
  folder: z.string(),
  report: importReportSchema,
  saved: z.number().int().nonnegative(),
  /** Test-split Dice of the imported predictions (null when none covers a test image). */
  testDice: z.number().nullable(),
  testImages: z.number().int().nonnegative(),
  /** Test-split images without an imported prediction. */
  missingTest: z.number().int().nonnegative(),
  seconds: z.number().nonnegative(),
});
export type ImportPredictionsResult = z.infer<typeof importPredictionsResultSchema>;
