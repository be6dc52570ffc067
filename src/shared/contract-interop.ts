/**
 * Contract entries of the research interop (models out as ONNX, external models and predictions
 * in), spread into `methods` of ./contract.ts. Its schemas live in ./interop-schemas, which
 * anyone may import directly; this file is imported only through ./contract.
 */
import { z } from 'zod';
import { jobSchema } from './common-schemas';
import {
  exportModelInputSchema,
  exportModelResultSchema,
  externalModelConfigSchema,
  onnxGraphInfoSchema,
} from './interop-schemas';

const job = z.lazy(() => jobSchema);
const versionName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a model version is letters, digits, . _ -');

export * from './interop-schemas';

export const interopMethods = {
  /** Writes a version as a standalone ONNX file with model.json beside it (refused if they exist). */
  'models.exportOnnx': { input: exportModelInputSchema, output: exportModelResultSchema },
  /** What an ONNX file declares (opsets, inputs, outputs with their shapes); runs nothing. */
  'models.inspectOnnx': {
    input: z.object({ path: z.string().min(1) }),
    output: onnxGraphInfoSchema,
  },
  /**
   * Registers an external ONNX model as a version: refused up front (bad-request, with every
   * reason) when the graph does not fit the config; the job copies it, checks one image and tests
   * it on the locked test split.
   */
  'models.add': {
    input: z.object({
      path: z.string().min(1),
      name: versionName.optional(),
      config: externalModelConfigSchema,
    }),
    output: job,
  },
  /**
   * Imports a folder of masks or probability maps (PNG, NIfTI, DICOM SEG) as version `name`: paired to the
   * images by name like a dataset import; the job's result has the import report.
   */
  'predictions.import': {
    input: z.object({
      folder: z.string().min(1),
      name: versionName,
      probability: z.boolean().default(false),
    }),
    output: job,
  },
} as const;

export const interopEvents = {} as const;
