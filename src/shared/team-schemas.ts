/**
 * Schemas of team review (src/core/team) that more than one contract group and the renderer
 * share: roles and user names.
 */
import { z } from 'zod';

/**
 * reader: reads the images a plan assigns them; adjudicator: decides disputed images; researcher:
 * trains, promotes and exports; admin: users and reading plans.
 */
export const roleSchema = z.enum(['reader', 'adjudicator', 'researcher', 'admin']);
export type Role = z.infer<typeof roleSchema>;

export const userNameSchema = z
  .string()
  .trim()
  .min(1, 'a user name is required')
  .max(64, 'a user name has at most 64 characters')
  .regex(/^[\p{L}\p{N}._@-]+$/u, 'a user name is letters, digits and . _ @ - only');
