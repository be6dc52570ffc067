/**
 * A project file that is not a valid project (empty, truncated, garbage, another application's
 * SQLite database) is refused with a message and left byte for byte as it was; a folder without
 * one is a new project, marked as ours by SQLite's application_id.
 */
import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../src/core/project/migrations';
import {
  DATABASE_FILE,
  PROJECT_APPLICATION_ID,
  ProjectFileError,
  ProjectStore,
  migrate,
  openDatabase,
} from '../../src/core/project/store';
import { tempDir } from './project-fixtures';

const bin = path.resolve(import.meta.dirname, '../../bin/qataseg.mjs');
const execFileAsync = promisify(execFile);

function fingerprint(dir: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const name of fs.readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    result[name] = fs.statSync(file).isFile()
      ? createHash('sha256').update(fs.readFileSync(file)).digest('hex')
      : 'dir';
  }
  return result;
}

/** A closed project with enough rows to span many pages. */
function realProject(): string {
  const dir = tempDir('valid-project');
  const store = ProjectStore.open(dir);
  store.db.transaction(() => {
    for (let i = 0; i < 400; i++) store.setMeta(`key-${i}`, 'x'.repeat(200));
  })();
  store.close();
  return dir;
}

function expectRefused(dir: string, pattern: RegExp): void {
  const before = fingerprint(dir);
  let thrown: unknown = null;
  try {
    ProjectStore.open(dir).close();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ProjectFileError);
  expect((thrown as Error).message).toMatch(pattern);
  expect((thrown as Error).message).toContain(path.join(dir, DATABASE_FILE));
  expect(fingerprint(dir)).toEqual(before);
}

describe('opening a project folder', () => {
  it('creates a new project where there is no project.sqlite, marked with our application_id', () => {
    const dir = tempDir('new-project');
    const store = ProjectStore.open(dir);
    expect(store.db.pragma('application_id', { simple: true })).toBe(PROJECT_APPLICATION_ID);
    store.close();
    // Reopening what we created is fine.
    ProjectStore.open(dir).close();
  });

  it('refuses an empty (0-byte) project.sqlite and leaves it as it was', () => {
    const dir = tempDir('empty-file');
    fs.writeFileSync(path.join(dir, DATABASE_FILE), '');
    expectRefused(dir, /empty \(0 bytes\)/);
    expect(fs.statSync(path.join(dir, DATABASE_FILE)).size).toBe(0);
  });

  it('refuses a file that is not SQLite at all', () => {
    const dir = tempDir('garbage-file');
    fs.writeFileSync(path.join(dir, DATABASE_FILE), Buffer.alloc(4096, 0x5a));
    expectRefused(dir, /not an SQLite database/);
  });

  it('refuses a file cut short after its header', () => {
    const dir = tempDir('short-file');
    fs.writeFileSync(path.join(dir, DATABASE_FILE), 'SQLite format 3\0');
    expectRefused(dir, /not an SQLite database|truncated/);
  });

  it('refuses a truncated project', () => {
    const dir = realProject();
    const file = path.join(dir, DATABASE_FILE);
    const size = fs.statSync(file).size;
    fs.truncateSync(file, Math.floor(size / 2 / 4096) * 4096);
    expectRefused(dir, /truncated/);
  });

  it('refuses the SQLite database of another application', () => {
    const dir = tempDir('foreign-db');
    const db = new Database(path.join(dir, DATABASE_FILE));
    db.exec(
      "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'a')",
    );
    db.close();
    expectRefused(dir, /another application/);
  });

  it("refuses another application's database in WAL mode without leaving -wal or -shm beside it", () => {
    const dir = tempDir('foreign-wal-db');
    const db = new Database(path.join(dir, DATABASE_FILE));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)');
    db.close();
    expectRefused(dir, /another application \(tables: notes\)/);
    expect(fs.readdirSync(dir)).toEqual([DATABASE_FILE]);
  });

  it('refuses a garbage file when opening read-only in memory', () => {
    const dir = tempDir('garbage-in-memory');
    fs.writeFileSync(path.join(dir, DATABASE_FILE), Buffer.alloc(4096, 0x5a));
    expect(() => ProjectStore.open(dir, { readOnly: 'review', inMemory: true })).toThrow(
      ProjectFileError,
    );
  });

  it('refuses a database whose application_id is not ours, naming it', () => {
    const dir = tempDir('foreign-app-id');
    const db = new Database(path.join(dir, DATABASE_FILE));
    db.pragma('application_id = 0x0f055112'); // Fossil's repository id
    db.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    db.pragma('user_version = 1');
    db.close();
    expectRefused(dir, /application_id 0x0f055112/);
  });

  it('opens a project created before application_id and marks it as ours', () => {
    const dir = tempDir('legacy-project');
    const db = openDatabase(path.join(dir, DATABASE_FILE));
    migrate(db, migrations.length);
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('name', 'old');
    db.close();
    const store = ProjectStore.open(dir);
    expect(store.getMeta('name')).toBe('old');
    expect(store.db.pragma('application_id', { simple: true })).toBe(PROJECT_APPLICATION_ID);
    store.close();
  });

  it('qataseg import refuses a 0-byte project with exit code 2 and changes nothing', async () => {
    const dir = tempDir('cli-empty');
    const dataset = tempDir('cli-dataset');
    fs.mkdirSync(path.join(dataset, 'Images'));
    fs.writeFileSync(path.join(dir, DATABASE_FILE), '');
    const before = fingerprint(dir);
    const failure = await execFileAsync(
      process.execPath,
      [bin, 'import', dataset, '--project', dir],
      {
        encoding: 'utf8',
      },
    ).catch((error: { code: number; stderr: string }) => error);
    expect('code' in failure && failure.code).toBe(2);
    expect((failure as { stderr: string }).stderr).toMatch(/empty \(0 bytes\)/);
    expect(fingerprint(dir)).toEqual(before);
  });
});
