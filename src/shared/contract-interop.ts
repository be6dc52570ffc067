/**
 * Contract entries of the research interop (models out as ONNX, external models and predictions
 * in), spread into `methods` of ./contract.ts. Its schemas live in ./interop-schemas, which
 * anyone may import directly; this file is imported only through ./contract.
 */
import { exportModelInputSchema, exportModelResultSchema } from './interop-schemas';

export * from './interop-schemas';

export const interopMethods = {
  /** Writes a version as a standalone ONNX file with model.json beside it (refused if they exist). */
  'models.exportOnnx': { input: exportModelInputSchema, output: exportModelResultSchema },
} as const;

export const interopEvents = {} as const;
