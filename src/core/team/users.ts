/**
 * Team users: a name, a role, a scrypt password hash and the hash of a personal API token. The
 * clear password and token exist only in what createUser / resetUserSecrets return, once.
 */
import { ApiError } from '../../shared/contract';
import type { Role } from '../../shared/team-schemas';
import { statement, type Db } from '../project/store';
import { hashPassword, newSecret, sha256Hex, verifyPassword } from './passwords';

export interface TeamUser {
  id: number;
  name: string;
  role: Role;
  createdAt: string;
  disabledAt: string | null;
}

interface UserRow {
  id: number;
  name: string;
  role: Role;
  created_at: string;
  disabled_at: string | null;
}

const USER_COLUMNS = 'id, name, role, created_at, disabled_at';

function toUser(row: UserRow): TeamUser {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    createdAt: row.created_at,
    disabledAt: row.disabled_at,
  };
}

export interface NewUserSecrets {
  user: TeamUser;
  /** One-time password to give the person; they sign in with it. */
  password: string;
  /** Personal API token for scripts (the API's token header). */
  token: string;
}

export async function createUser(db: Db, name: string, role: Role): Promise<NewUserSecrets> {
  if (findUserByName(db, name)) throw new ApiError('conflict', `user ${name} already exists`);
  const password = newSecret(12);
  const token = newSecret(24);
  const passwordHash = await hashPassword(password);
  // Checked again inside the write: two adds of one name race through the await above.
  const result = statement(
    db,
    `INSERT INTO users (name, role, password_hash, token_hash, created_at)
     VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
  ).run(name, role, passwordHash, sha256Hex(token), new Date().toISOString());
  if (result.changes === 0) throw new ApiError('conflict', `user ${name} already exists`);
  return { user: userById(db, Number(result.lastInsertRowid)), password, token };
}

export function listUsers(db: Db): TeamUser[] {
  return (statement(db, `SELECT ${USER_COLUMNS} FROM users ORDER BY name`).all() as UserRow[]).map(
    toUser,
  );
}

/** True once the project has a user: from then on `serve --team` asks everyone to sign in. */
export function hasUsers(db: Db): boolean {
  return statement(db, 'SELECT 1 FROM users LIMIT 1').get() !== undefined;
}

export function findUserByName(db: Db, name: string): TeamUser | null {
  const row = statement(db, `SELECT ${USER_COLUMNS} FROM users WHERE name = ?`).get(name) as
    UserRow | undefined;
  return row ? toUser(row) : null;
}

export function userById(db: Db, id: number): TeamUser {
  const row = statement(db, `SELECT ${USER_COLUMNS} FROM users WHERE id = ?`).get(id) as
    UserRow | undefined;
  if (!row) throw new ApiError('not-found', `no user with id ${id}`);
  return toUser(row);
}

/** The enabled user whose personal token this is, else null. */
export function userByToken(db: Db, token: string): TeamUser | null {
  const row = statement(
    db,
    `SELECT ${USER_COLUMNS} FROM users WHERE token_hash = ? AND disabled_at IS NULL`,
  ).get(sha256Hex(token)) as UserRow | undefined;
  return row ? toUser(row) : null;
}

/** The user by name, or ApiError 'not-found' naming it. */
export function requireUser(db: Db, name: string): TeamUser {
  const user = findUserByName(db, name);
  if (!user) throw new ApiError('not-found', `no user named ${name}`);
  return user;
}

/**
 * Disables a user at once: the flag and the end of every session in one transaction, so no
 * request after it finds either. Their token stops working (userByToken skips disabled users).
 * Disabling a disabled user changes nothing.
 */
export function disableUser(db: Db, name: string): TeamUser {
  const user = requireUser(db, name);
  db.transaction(() => {
    statement(db, 'UPDATE users SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL').run(
      new Date().toISOString(),
      user.id,
    );
    statement(db, 'DELETE FROM user_sessions WHERE user_id = ?').run(user.id);
  })();
  return userById(db, user.id);
}

/**
 * A new one-time password and token for a user (forgotten password, leaked token): the old ones
 * stop working, their sessions end, and a disabled user is enabled again.
 */
export async function resetUserSecrets(db: Db, name: string): Promise<NewUserSecrets> {
  const user = requireUser(db, name);
  const password = newSecret(12);
  const token = newSecret(24);
  const passwordHash = await hashPassword(password);
  db.transaction(() => {
    statement(
      db,
      'UPDATE users SET password_hash = ?, token_hash = ?, disabled_at = NULL WHERE id = ?',
    ).run(passwordHash, sha256Hex(token), user.id);
    statement(db, 'DELETE FROM user_sessions WHERE user_id = ?').run(user.id);
  })();
  return { user: userById(db, user.id), password, token };
}

/**
 * The enabled user whose password this is, else null. An unknown name costs a hash too, so the
 * answer's time does not tell which names exist.
 */
export async function userByPassword(
  db: Db,
  name: string,
  password: string,
): Promise<TeamUser | null> {
  const row = statement(
    db,
    `SELECT ${USER_COLUMNS}, password_hash FROM users WHERE name = ? AND disabled_at IS NULL`,
  ).get(name) as (UserRow & { password_hash: string }) | undefined;
  const ok = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH);
  return row && ok ? toUser(row) : null;
}

/** A hash of nothing anyone knows, checked against when the name is unknown. */
const DUMMY_HASH =
  'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
