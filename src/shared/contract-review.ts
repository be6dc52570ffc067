/**
 * Contract entries of the review room, spread into `methods` and `events` of ./contract.ts.
 * Each method: { input: zod schema, output: zod schema }; each event: a zod schema.
 */
export const reviewMethods = {} as const;

export const reviewEvents = {} as const;
