/**
 * Contract entries of the PACS room (src/core/pacs), spread into `methods` of ./contract.ts:
 * named connections, echo, search (QIDO-RS or C-FIND), retrieve (WADO-RS, C-GET or C-MOVE), send
 * (STOW-RS or C-STORE) and the store SCP's allow list.
 *
 * A password or token crosses only inward (in `pacs.add`); no output carries one.
 * Its schemas live in ./pacs-schemas, which anyone may import directly.
 */
import { z } from 'zod';
import { jobSchema } from './common-schemas';
import { noInput } from './schema-helpers';
import {
  pacsAddInputSchema,
  pacsAllowInputSchema,
  pacsAllowResultSchema,
  pacsConnectionSchema,
  pacsEchoResultSchema,
  pacsNameSchema,
  pacsRetrieveInputSchema,
  pacsSearchInputSchema,
  pacsSearchResultSchema,
  pacsSendInputSchema,
} from './pacs-schemas';

export * from './pacs-schemas';

// Lazy: ./contract spreads this table, so its schemas exist only once it has finished loading.
const job = z.lazy(() => jobSchema);

export const pacsMethods = {
  /** The project's PACS connections, without secrets (`hasSecret` says one is kept). */
  'pacs.list': { input: noInput, output: z.array(pacsConnectionSchema) },
  /** Adds or replaces a connection; its secret goes to the host's secret store, never the DB. */
  'pacs.add': { input: pacsAddInputSchema, output: pacsConnectionSchema },
  /** Removes a connection and its secret. */
  'pacs.remove': {
    input: z.object({ name: pacsNameSchema }),
    output: z.object({ removed: z.boolean() }),
  },
  /** Says what works and what does not (a QIDO-RS probe; C-ECHO for DIMSE). */
  'pacs.echo': { input: z.object({ name: pacsNameSchema }), output: pacsEchoResultSchema },
  /** Studies matching the query, with their series and instance counts, one page at a time. */
  'pacs.search': { input: pacsSearchInputSchema, output: pacsSearchResultSchema },
  /** Starts retrieving a study or series into the project; the job's result is a PacsRetrieveResult. */
  'pacs.retrieve': { input: pacsRetrieveInputSchema, output: job },
  /** Starts sending the DICOM SEG of each image; the job's result is a PacsSendResult. */
  'pacs.send': { input: pacsSendInputSchema, output: job },
  /** Reads or changes the calling AE titles our store SCP accepts pushes from. */
  'pacs.allow': { input: pacsAllowInputSchema, output: pacsAllowResultSchema },
} as const;

export const pacsEvents = {} as const;
