/**
 * Team review, people and trail (issue 23, team-auth): who is signed in, the team's users (admin
 * only) and the audit trail. Spread into `methods` by contract.ts.
 */
import { z } from 'zod';
import { idSchema, noInput } from './schema-helpers';
import { roleSchema, userNameSchema } from './team-schemas';

export const teamUserSchema = z.object({
  id: idSchema,
  name: z.string(),
  role: roleSchema,
  createdAt: z.string(),
  /** When the user was disabled (their sessions ended then); null while enabled. */
  disabledAt: z.string().nullable(),
});
export type TeamUserInfo = z.infer<typeof teamUserSchema>;

/** What `users.add` and `users.reset` answer, once: the clear password and token exist nowhere else. */
export const userSecretsSchema = z.object({
  user: teamUserSchema,
  /** One-time password the person signs in with. */
  password: z.string(),
  /** Personal API token (the x-qataseg-token header) for scripts. */
  token: z.string(),
});
export type UserSecrets = z.infer<typeof userSecretsSchema>;

export const auditEntrySchema = z.object({
  id: idSchema,
  at: z.string(),
  /** null: the project's owner (single-user mode, the CLI on the folder). */
  userId: idSchema.nullable(),
  userName: z.string(),
  /** The contract method that succeeded, e.g. 'masks.save'. */
  action: z.string(),
  imageId: idSchema.nullable(),
  /** What the action needs to be understood later (JSON), or null. */
  detail: z.unknown().nullable(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

const userByNameInput = z.object({ name: userNameSchema });

export const teamAuthMethods = {
  /**
   * Who this page or script is: a signed-in team member, or null for the project's owner (the
   * desktop app, plain browser mode, the CLI).
   */
  'auth.me': {
    input: noInput,
    output: z.object({
      user: z.object({ id: idSchema, name: z.string(), role: roleSchema }).nullable(),
    }),
  },
  'users.list': { input: noInput, output: z.array(teamUserSchema) },
  /** Adds a user; the answer holds their one-time password and personal token (shown once). */
  'users.add': {
    input: z.object({ name: userNameSchema, role: roleSchema }),
    output: userSecretsSchema,
  },
  /** Disables a user: their sessions end at once, their token and password stop working. */
  'users.disable': { input: userByNameInput, output: teamUserSchema },
  /** A new password and token (the old ones stop working, open sessions end); enables again. */
  'users.reset': { input: userByNameInput, output: userSecretsSchema },
  /** The audit trail, newest first. */
  'audit.list': {
    input: z
      .object({
        user: userNameSchema.optional(),
        /** Entries with an id below this (paging back). */
        before: idSchema.optional(),
        limit: z.number().int().min(1).max(10_000).optional(),
      })
      .optional(),
    output: z.array(auditEntrySchema),
  },
} as const;

export const teamAuthEvents = {
  /** A user's sessions ended (disabled or reset): their pages show that they are signed out. */
  'team.sessionsEnded': z.object({ userId: idSchema }),
} as const;
