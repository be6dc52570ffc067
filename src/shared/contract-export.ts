/**
 * Contract entries of the export room, spread into `methods` and `events` of ./contract.ts.
 * Each method: { input: zod schema, output: zod schema }; each event: a zod schema.
 */
export const exportMethods = {} as const;

export const exportEvents = {} as const;
