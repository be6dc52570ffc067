/**
 * The project store: a folder holding `project.sqlite` (WAL, foreign keys on) and `models/`.
 * Schema changes are numbered migrations applied in order; `PRAGMA user_version` records the last.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { migrations } from './migrations';

export const DATABASE_FILE = 'project.sqlite';
export const MODELS_DIR = 'models';

export type Db = Database.Database;

export interface OpenOptions {
  readonly?: boolean;
}

/** better-sqlite3 built against Electron's ABI, when the app runs inside Electron. */
function nativeBindingOption(): { nativeBinding?: string } {
  const binding = process.env.QATASEG_SQLITE_BINDING;
  return binding ? { nativeBinding: binding } : {};
}

export function openDatabase(file: string, options: OpenOptions = {}): Db {
  const db = new Database(file, {
    readonly: options.readonly ?? false,
    fileMustExist: options.readonly ?? false,
    ...nativeBindingOption(),
  });
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    // FULL: an acknowledged write survives a power cut as well as a killed process.
    db.pragma('synchronous = FULL');
  }
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Applies every migration above the file's version, each in its own transaction. */
export function migrate(db: Db, target = migrations.length): void {
  let version = schemaVersion(db);
  if (version > migrations.length) {
    throw new Error(
      `project.sqlite has schema version ${version}, newer than this build knows (${migrations.length}); update the workstation`,
    );
  }
  while (version < target) {
    const step = migrations[version];
    db.transaction(() => {
      step(db);
      db.pragma(`user_version = ${version + 1}`);
    })();
    version += 1;
  }
}

export class ProjectStore {
  readonly db: Db;

  private constructor(
    readonly dir: string,
    db: Db,
  ) {
    this.db = db;
  }

  /** Opens (creating if needed) the project folder and brings its schema up to date. */
  static open(dir: string): ProjectStore {
    const absolute = path.resolve(dir);
    fs.mkdirSync(path.join(absolute, MODELS_DIR), { recursive: true });
    const db = openDatabase(path.join(absolute, DATABASE_FILE));
    migrate(db);
    const store = new ProjectStore(absolute, db);
    if (store.getMeta('created_at') === null) store.setMeta('created_at', new Date().toISOString());
    return store;
  }

  get name(): string {
    return this.getMeta('name') ?? path.basename(this.dir);
  }

  get modelsDir(): string {
    return path.join(this.dir, MODELS_DIR);
  }

  getMeta(key: string): string | null {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as
      { value: string } | undefined;
    return row?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.db
      .prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      )
      .run(key, value);
  }

  /**
   * The project summary: images, images with a label in force (a correction or a ground truth;
   * however many revisions they have) and model versions that finished training.
   */
  counts(): { imageCount: number; labelledCount: number; modelCount: number } {
    const row = this.db
      .prepare(
        `SELECT COUNT(*) AS images,
           COUNT(CASE WHEN correction_head_id IS NOT NULL OR ground_truth_id IS NOT NULL THEN 1 END)
             AS labelled
         FROM images`,
      )
      .get() as { images: number; labelled: number };
    return {
      imageCount: row.images,
      labelledCount: row.labelled,
      modelCount: this.finishedModelCount(),
    };
  }

  /** Model versions that finished training: folders of models/ holding a card.json. */
  private finishedModelCount(): number {
    if (!fs.existsSync(this.modelsDir)) return 0;
    return fs
      .readdirSync(this.modelsDir, { withFileTypes: true })
      .filter(
        (entry) =>
          entry.isDirectory() && fs.existsSync(path.join(this.modelsDir, entry.name, 'card.json')),
      ).length;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

const statementCache = new WeakMap<Db, Map<string, Database.Statement>>();

/** A prepared statement, compiled once per connection (hot paths: import, saves, listing). */
export function statement(db: Db, sql: string): Database.Statement {
  let cache = statementCache.get(db);
  if (!cache) {
    cache = new Map();
    statementCache.set(db, cache);
  }
  let prepared = cache.get(sql);
  if (!prepared) {
    prepared = db.prepare(sql);
    cache.set(sql, prepared);
  }
  return prepared;
}
