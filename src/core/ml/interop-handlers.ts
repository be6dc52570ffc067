/**
 * Handlers of the research interop's contract methods (src/shared/contract-interop.ts): a version
 * out as ONNX, external ONNX models and prediction folders in as versions.
 */
import type { HandlerGroup } from '../service';
import { exportModel } from './onnx/export-model';

export const interopHandlers: HandlerGroup = {
  'models.exportOnnx': (input, context) => exportModel(context.project(), input),
};
