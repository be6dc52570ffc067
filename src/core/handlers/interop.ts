/**
 * Handlers of the research interop's contract methods (src/shared/contract-interop.ts): a version
 * out as ONNX, external ONNX models and prediction folders in as versions.
 */
import type { HandlerGroup } from './context';
import { inspectOnnxFile, readConfigBeside, startAddModel } from '../ml/external/add-model';
import { startImportPredictions } from '../ml/external/import-predictions';
import { exportModelResultSchema } from '../../shared/interop-schemas';
import { planModelExport } from '../ml/onnx/export-model';

export const interopHandlers: HandlerGroup = {
  'models.exportOnnx': async (input, context) =>
    exportModelResultSchema.parse(
      await context.worker.run('export-model', planModelExport(context.project(), input)),
    ),
  'models.inspectOnnx': async (input) => ({
    ...(await inspectOnnxFile(input.path)),
    beside: readConfigBeside(input.path),
  }),
  'models.add': (input, context) => startAddModel(context, input),
  'predictions.import': (input, context) => startImportPredictions(context, input),
};
