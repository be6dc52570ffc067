/**
 * Handlers of the research interop's contract methods (src/shared/contract-interop.ts): a version
 * out as ONNX, external ONNX models and prediction folders in as versions.
 */
import { ApiError } from '../../shared/contract';
import { resolveUserPath } from '../guarded-files';
import type { HandlerGroup, ServiceContext } from './context';
import { WorkerJobError } from '../ml/worker-host';
import { inspectOnnxFile, readConfigBeside, startAddModel } from '../ml/external/add-model';
import { startImportPredictions } from '../ml/external/import-predictions';
import { exportModelResultSchema } from '../../shared/interop-schemas';
import { planModelExport } from '../ml/onnx/export-model';

/** The worker writes a planned export; a write that fails is the target's fault (bad-request). */
async function writeInWorker(
  context: ServiceContext,
  input: { version?: string; out: string; overwrite?: boolean },
): Promise<unknown> {
  const plan = planModelExport(context.project(), input);
  try {
    return await context.worker.run('export-model', plan);
  } catch (error) {
    if (error instanceof WorkerJobError && !error.cancelled)
      throw new ApiError('bad-request', error.message);
    throw error;
  }
}

export const interopHandlers: HandlerGroup = {
  'models.exportOnnx': async (input, context) =>
    exportModelResultSchema.parse(await writeInWorker(context, input)),
  'models.inspectOnnx': async (input, context) => {
    const file = resolveUserPath(input.path, context.projectOrNull()?.dir ?? null);
    return { ...(await inspectOnnxFile(file)), beside: await readConfigBeside(file) };
  },
  'models.add': (input, context) => startAddModel(context, input),
  'predictions.import': (input, context) => startImportPredictions(context, input),
};
