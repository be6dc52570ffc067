/** Handlers of the export room's contract methods (src/shared/contract-export.ts). */
import { ApiError } from '../../shared/contract';
import type { ExportInput } from '../../shared/export-schemas';
import type { ProjectStore } from '../project/store';
import type { HandlerGroup } from '../service';
import {
  assertNoConflicts,
  ExportRefusedError,
  planExport,
  planSummary,
  runExport,
  type PlannedExport,
} from './exporter';

/** Plans, turning a refusal into the caller's error (not a failed job). */
async function plan(
  store: ProjectStore,
  input: ExportInput,
  strict: boolean,
): Promise<PlannedExport> {
  try {
    const planned = await planExport(store, input);
    if (strict) assertNoConflicts(planned);
    return planned;
  } catch (error) {
    if (error instanceof ExportRefusedError) throw new ApiError(error.code, error.message);
    throw error;
  }
}

export const exportHandlers: HandlerGroup = {
  'export.plan': async (input, context) => planSummary(await plan(context.project(), input, false)),
  'export.start': async (input, context) => {
    const store = context.project();
    const planned = await plan(store, input, true);
    return context.jobs.start('export', (reporter) => runExport(store, planned, reporter));
  },
};
