/**
 * Team users in a real project file: the one-time password and the personal token are returned
 * once and only their hashes are stored; a token finds its user until the user is disabled.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATABASE_FILE, ProjectStore } from '../../src/core/project/store';
import { verifyPassword } from '../../src/core/team/passwords';
import {
  createUser,
  findUserByName,
  hasUsers,
  listUsers,
  userByToken,
} from '../../src/core/team/users';
import { tempDir } from './project-fixtures';

describe('team users', () => {
  it('keeps only hashes, finds a user by token and refuses a second user of one name', async () => {
    const dir = tempDir('team-users');
    const store = ProjectStore.open(dir);
    let secrets: string[] = [];
    try {
      expect(hasUsers(store.db)).toBe(false);
      const ana = await createUser(store.db, 'ana', 'reader');
      secrets = [ana.password, ana.token];
      expect(ana.user).toMatchObject({ name: 'ana', role: 'reader', disabledAt: null });
      expect(hasUsers(store.db)).toBe(true);
      await expect(createUser(store.db, 'ANA', 'admin')).rejects.toThrow(/already exists/);
      expect(userByToken(store.db, ana.token)?.name).toBe('ana');
      expect(userByToken(store.db, `${ana.token}x`)).toBeNull();
      expect(findUserByName(store.db, 'Ana')?.id).toBe(ana.user.id);
      expect(listUsers(store.db).map((user) => user.name)).toEqual(['ana']);

      const row = store.db.prepare('SELECT password_hash, token_hash FROM users').get() as {
        password_hash: string;
        token_hash: string;
      };
      expect(row.password_hash).toMatch(/^scrypt\$16384\$8\$1\$/);
      expect(row.password_hash).not.toContain(ana.password);
      expect(row.token_hash).not.toContain(ana.token);
      expect(await verifyPassword(ana.password, row.password_hash)).toBe(true);
      expect(await verifyPassword(`${ana.password}!`, row.password_hash)).toBe(false);

      store.db.prepare('UPDATE users SET disabled_at = ?').run(new Date().toISOString());
      expect(userByToken(store.db, ana.token)).toBeNull();
    } finally {
      store.close();
    }
    // Nothing of the secrets is in the file either.
    const raw = new Database(path.join(dir, DATABASE_FILE), { readonly: true });
    const dump = JSON.stringify(raw.prepare('SELECT * FROM users').all());
    raw.close();
    for (const secret of secrets) expect(dump).not.toContain(secret);
    expect(secrets).toHaveLength(2);
  });
});
