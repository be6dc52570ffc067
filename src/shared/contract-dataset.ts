/**
 * Contract entries of the dataset room, spread into `methods` and `events` of ./contract.ts.
 * Each method: { input: zod schema, output: zod schema }; each event: a zod schema.
 */
export const datasetMethods = {} as const;

export const datasetEvents = {} as const;
