/**
 * Contract entries of the dataset room, spread into `methods` and `events` of ./contract.ts.
 * Each method: { input: zod schema, output: zod schema }; each event: a zod schema.
 *
 * This file imports ./contract (for the job schema) and is imported by it: import it only through
 * ./contract. Its schemas and types live in ./dataset-schemas, which anyone may import directly.
 */
import { z } from 'zod';
import { jobSchema } from './common-schemas';
import { datasetInfoSchema, importInputSchema } from './dataset-schemas';
import { noInput } from './schema-helpers';

export * from './dataset-schemas';

export const datasetMethods = {
  /** Starts an import (or refresh) of a dataset folder into the open project; progress as job events. */
  'dataset.import': {
    input: importInputSchema,
    // Lazy: ./contract spreads this table, so its schemas exist only once it has finished loading.
    output: z.lazy(() => jobSchema),
  },
  'dataset.list': { input: noInput, output: z.array(datasetInfoSchema) },
} as const;

export const datasetEvents = {} as const;
