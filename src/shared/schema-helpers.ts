import { z } from 'zod';

/** Input of a method that takes no arguments: `{}` or nothing. */
export const noInput = z.object({}).strict().optional();

/** Positive integer id of a database row. */
export const idSchema = z.number().int().positive();
