/**
 * Contract entries of the ml room, spread into `methods` and `events` of ./contract.ts.
 * Each method: { input: zod schema, output: zod schema }; each event: a zod schema.
 */
export const mlMethods = {} as const;

export const mlEvents = {} as const;
