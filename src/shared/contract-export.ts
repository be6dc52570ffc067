/**
 * Contract entries of the export room, spread into `methods` and `events` of ./contract.ts.
 * Each method: { input: zod schema, output: zod schema }; each event: a zod schema.
 *
 * This file imports ./contract (for the job schema) and is imported by it: import it only through
 * ./contract. Its schemas and types live in ./export-schemas, which anyone may import directly.
 */
import { z } from 'zod';
import { jobSchema } from './common-schemas';
import { exportInputSchema, exportPlanSchema, segmentLabelSchema } from './export-schemas';
import { noInput } from './schema-helpers';

export * from './export-schemas';

export const exportMethods = {
  /** What an export would write and which files it would replace; writes nothing. */
  'export.plan': { input: exportInputSchema, output: exportPlanSchema },
  /**
   * Starts a batch export of the open project's masks; progress as `job.updated` events, cancel
   * with `jobs.cancel`, the job's result is an ExportResult. Refused up front (bad-request or
   * conflict) when the output is inside a dataset folder or would replace files without overwrite.
   */
  'export.start': {
    input: exportInputSchema,
    // Lazy: ./contract spreads this table, so its schemas exist only once it has finished loading.
    output: z.lazy(() => jobSchema),
  },
  /** The segment label and colour DICOM SEG exports write (the project's settings). */
  'export.segmentLabel': { input: noInput, output: segmentLabelSchema },
  /** Changes them for the project's later DICOM SEG exports. */
  'export.setSegmentLabel': { input: segmentLabelSchema, output: segmentLabelSchema },
} as const;

export const exportEvents = {} as const;
