/**
 * Login sessions of `serve --team`: the cookie holds a random secret, the database its sha256
 * (user_sessions.id), so a copy of project.sqlite signs nobody in. A session lasts SESSION_HOURS
 * from sign-in; disabling or resetting a user deletes theirs (users.ts).
 */
import { statement, type Db } from '../project/store';
import { newSecret, sha256Hex } from './passwords';
import type { TeamUser } from './users';

export const SESSION_HOURS = 12;

interface SessionUserRow {
  id: number;
  name: string;
  role: TeamUser['role'];
  created_at: string;
  disabled_at: string | null;
}

/** Starts a session for the user; returns the cookie's secret (kept nowhere in clear). */
export function createSession(db: Db, userId: number, now = new Date()): string {
  const secret = newSecret(32);
  const expires = new Date(now.getTime() + SESSION_HOURS * 3600_000);
  // Expired sessions of anyone go when someone signs in: the table stays small.
  statement(db, 'DELETE FROM user_sessions WHERE expires_at <= ?').run(now.toISOString());
  statement(
    db,
    'INSERT INTO user_sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)',
  ).run(sha256Hex(secret), userId, now.toISOString(), expires.toISOString());
  return secret;
}

/** The enabled user of a live session, else null. */
export function userBySession(db: Db, secret: string, now = new Date()): TeamUser | null {
  const row = statement(
    db,
    `SELECT u.id, u.name, u.role, u.created_at, u.disabled_at FROM user_sessions s
     JOIN users u ON u.id = s.user_id
     WHERE s.id = ? AND s.expires_at > ? AND u.disabled_at IS NULL`,
  ).get(sha256Hex(secret), now.toISOString()) as SessionUserRow | undefined;
  if (!row) return null;
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
  };
}

/** Ends one session (sign out). */
export function endSession(db: Db, secret: string): void {
  statement(db, 'DELETE FROM user_sessions WHERE id = ?').run(sha256Hex(secret));
}
