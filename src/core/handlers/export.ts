/** Handlers of the export room's contract methods (src/shared/contract-export.ts). */
import { ApiError } from '../../shared/contract';
import type { ExportInput } from '../../shared/export-schemas';
import type { ProjectStore } from '../project/store';
import type { HandlerGroup } from './context';
import { readSegmentLabel, writeSegmentLabel } from '../project/export-settings';
import {
  assertNoConflicts,
  ExportRefusedError,
  planExport,
  planSummary,
  runExport,
  type PlannedExport,
} from '../export/exporter';

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
  // One export per project at a time: two runs into one folder would replace each other's files.
  'export.start': (input, context) => {
    const store = context.project();
    return context.jobs.startExclusive(
      `export:${store.dir}`,
      `an export to ${input.out}`,
      'export',
      async () => {
        const planned = await plan(store, input, true);
        return (reporter) => runExport(store, planned, reporter);
      },
    );
  },
  'export.segmentLabel': (_input, context) => readSegmentLabel(context.project()),
  'export.setSegmentLabel': (input, context) => writeSegmentLabel(context.project(), input),
};
