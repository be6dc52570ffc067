/**
 * The project store: a folder holding `project.sqlite` (WAL, foreign keys on) and `models/`.
 * Schema changes are numbered migrations applied in order; `PRAGMA user_version` records the last.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { describeFsError } from '../fs-errors';
import { migrations } from './migrations';
import { acquireProjectLock, type ProjectLock } from './lock';
import { unsafeForWal } from './filesystem';

export const DATABASE_FILE = 'project.sqlite';
export const MODELS_DIR = 'models';
/** SQLite's application_id of a project file: "QTSG". */
export const PROJECT_APPLICATION_ID = 0x51545347;

export type Db = Database.Database;

export interface OpenOptions {
  readonly?: boolean;
}

export interface ProjectOpenOptions {
  /** How the project lock names this process (default: its command line). */
  command?: string;
  /**
   * Open for reading only, and why (shown to the user): no lock, no migration, nothing written in
   * the folder. The project must exist with this build's schema.
   */
  readOnly?: string;
  /**
   * With readOnly: read the file once into memory and never touch the folder again (no -shm or
   * -wal files): for folders on network filesystems, where SQLite's shared memory is not shared.
   */
  inMemory?: boolean;
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
    immediateTransactions(db);
  }
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}

/**
 * Every `db.transaction(fn)()` begins IMMEDIATE: it takes the write lock before its first read,
 * so while another program writes it waits (busy_timeout). A DEFERRED transaction that read first
 * would instead fail at once with SQLITE_BUSY_SNAPSHOT when that program commits.
 */
function immediateTransactions(db: Db): void {
  const transaction = db.transaction.bind(db);
  db.transaction = ((fn: (...args: unknown[]) => unknown) => {
    // The .immediate variant carries .deferred/.immediate/.exclusive like the default one, and
    // better-sqlite3 binds it to its database already.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    return transaction(fn).immediate;
  }) as unknown as Db['transaction'];
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

/**
 * Creates a folder of the project, saying why it cannot: a recursive mkdir on a read-only file
 * system reports ENOENT, so the nearest existing folder is asked for the cause.
 */
function createProjectFolder(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (error) {
    let cause: unknown = error;
    let existing = dir;
    while (!fs.existsSync(existing) && path.dirname(existing) !== existing) {
      existing = path.dirname(existing);
    }
    try {
      fs.accessSync(existing, fs.constants.W_OK);
    } catch (accessError) {
      cause = accessError;
    }
    throw new Error(`cannot create the project folder ${dir}: ${describeFsError(cause)}`);
  }
}

/** A project folder that cannot be opened as it is; nothing in it was changed. */
export class ProjectFileError extends Error {
  constructor(
    readonly file: string,
    problem: string,
    advice = 'It was left as it is: move it aside (or open another folder) to start a new project there.',
  ) {
    super(`${file} ${problem}. ${advice}`);
    this.name = 'ProjectFileError';
  }
}

/** A project folder on a network (or FUSE) filesystem: never opened for writing there. */
export class NetworkFolderError extends ProjectFileError {
  constructor(
    readonly dir: string,
    readonly reason: string,
  ) {
    super(
      path.join(dir, DATABASE_FILE),
      `cannot be opened for writing: ${reason}`,
      "SQLite's write-ahead log keeps its index in memory shared by the processes that open the " +
        'project, and a network filesystem does not share it between machines: two workstations ' +
        'writing it at once could corrupt it. Open it read-only to review it ' +
        `(qataseg serve --project ${dir} --read-only), or copy it to a local disk and work there ` +
        `(qataseg copy-project ${dir} LOCAL_FOLDER).`,
    );
    this.name = 'NetworkFolderError';
  }
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * What `project.sqlite` is, read before anything writes to it: absent (a new project), ours
 * (application_id, or a project from before application_id: a `meta` table and a schema
 * version), or an empty SQLite file (nothing to lose). Anything else throws ProjectFileError:
 * empty, not SQLite, truncated, damaged, or another application's database. `db`: check the
 * schema in this copy of the file (in memory) instead of opening the file.
 */
export function inspectProjectFile(
  file: string,
  options: { db?: Db } = {},
): 'missing' | 'ours' | 'empty-database' {
  let size: number;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw new ProjectFileError(file, 'is not a file');
    size = stat.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  if (size === 0) throw new ProjectFileError(file, 'is empty (0 bytes), not a project');
  const header = Buffer.alloc(100);
  const fd = fs.openSync(file, 'r');
  let read: number;
  try {
    read = fs.readSync(fd, header, 0, 100, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (read < 100 || !header.subarray(0, 16).equals(SQLITE_MAGIC)) {
    throw new ProjectFileError(
      file,
      'is not an SQLite database (damaged, truncated or another kind of file)',
    );
  }
  const rawPageSize = header.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) {
    throw new ProjectFileError(file, 'has a damaged SQLite header');
  }
  const applicationId = header.readUInt32BE(68);
  if (applicationId !== 0 && applicationId !== PROJECT_APPLICATION_ID) {
    throw new ProjectFileError(
      file,
      `belongs to another application (application_id 0x${applicationId.toString(16).padStart(8, '0')})`,
    );
  }
  // The header's page count is trustworthy when its change counter matches; with a write-ahead
  // log beside it the file may legitimately lag behind.
  const pageCount = header.readUInt32BE(28);
  const headerValid = header.readUInt32BE(24) === header.readUInt32BE(92) && pageCount > 0;
  const walSize = fs.statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0;
  if (headerValid && walSize === 0 && size < pageCount * pageSize) {
    throw new ProjectFileError(file, `is truncated (${size} of ${pageCount * pageSize} bytes)`);
  }
  if (options.db) {
    classifySchema(file, options.db, applicationId);
    return 'ours';
  }
  // A read-only connection to a WAL file creates -wal and -shm beside it: a refusal removes the
  // ones it created, so a file that is not ours is left exactly as it was.
  const created = [`${file}-wal`, `${file}-shm`].filter((name) => !fs.existsSync(name));
  try {
    const db = new Database(file, {
      readonly: true,
      fileMustExist: true,
      ...nativeBindingOption(),
    });
    try {
      return classifySchema(file, db, applicationId);
    } finally {
      db.close();
    }
  } catch (error) {
    for (const name of created) fs.rmSync(name, { force: true });
    throw error;
  }
}

function classifySchema(file: string, db: Db, applicationId: number): 'ours' | 'empty-database' {
  let tables: string[];
  let version: number;
  try {
    tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
    ).map((row) => row.name);
    version = db.pragma('user_version', { simple: true }) as number;
  } catch (error) {
    throw new ProjectFileError(file, `is damaged (${(error as Error).message})`);
  }
  if (applicationId === PROJECT_APPLICATION_ID) return 'ours';
  if (tables.length === 0 && version === 0) return 'empty-database';
  if (tables.includes('meta') && version >= 1) return 'ours';
  const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? ', ...' : '');
  throw new ProjectFileError(
    file,
    `is the SQLite database of another application (tables: ${shown || 'none'}), not a project`,
  );
}

/**
 * The project file as a read-only database in memory. Changes still in a write-ahead log beside it
 * would be missed, so such a file is refused.
 */
function readIntoMemory(file: string): Db {
  const walSize = fs.statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0;
  if (walSize > 0) {
    throw new ProjectFileError(
      file,
      `has changes in its write-ahead log (${path.basename(file)}-wal) that are not in the file yet`,
      'It may be open on another machine, or was not closed cleanly: close it where it is open (or open it once for writing there), then try again.',
    );
  }
  const bytes = fs.readFileSync(file);
  // In memory there is no WAL: mark the copy as a rollback-journal database (header bytes 18-19).
  if (bytes.length >= 100) {
    bytes[18] = 1;
    bytes[19] = 1;
  }
  try {
    return new Database(bytes, { readonly: true, ...nativeBindingOption() });
  } catch (error) {
    throw new ProjectFileError(file, `is damaged (${(error as Error).message})`);
  }
}

export class ProjectStore {
  readonly db: Db;

  private constructor(
    readonly dir: string,
    db: Db,
    /** This process's write lock on the folder (project.lock); null when read-only. */
    readonly lock: ProjectLock | null,
    /** Why the project is open read-only, or null when it is open for writing. */
    readonly readOnly: string | null = null,
    /** Read into memory once: the folder is never touched again (network filesystems). */
    readonly inMemory = false,
  ) {
    this.db = db;
  }

  /**
   * Opens (creating if needed) the project folder and brings its schema up to date. A
   * `project.sqlite` that is not a project is refused (ProjectFileError) before anything is written.
   */
  static open(dir: string, options: ProjectOpenOptions = {}): ProjectStore {
    const absolute = path.resolve(dir);
    const file = path.join(absolute, DATABASE_FILE);
    if (options.readOnly !== undefined) {
      return ProjectStore.openReadOnly(absolute, options.readOnly, options.inMemory ?? false);
    }
    const unsafe = unsafeForWal(absolute);
    if (unsafe) throw new NetworkFolderError(absolute, unsafe);
    createProjectFolder(absolute);
    // One writer at a time (ProjectLockedError names the holder); then look before writing.
    const lock = acquireProjectLock(absolute, options.command);
    let db: Db | null = null;
    try {
      inspectProjectFile(file);
      createProjectFolder(path.join(absolute, MODELS_DIR));
      db = openDatabase(file);
      if (db.pragma('application_id', { simple: true }) !== PROJECT_APPLICATION_ID) {
        db.pragma(`application_id = ${PROJECT_APPLICATION_ID}`);
      }
      migrate(db);
    } catch (error) {
      db?.close();
      lock.release();
      throw error;
    }
    const store = new ProjectStore(absolute, db, lock);
    if (store.getMeta('created_at') === null) store.setMeta('created_at', new Date().toISOString());
    return store;
  }

  private static openReadOnly(absolute: string, reason: string, inMemory: boolean): ProjectStore {
    const file = path.join(absolute, DATABASE_FILE);
    if (!fs.existsSync(file)) {
      throw new ProjectFileError(file, 'does not exist', 'There is no project to open read-only.');
    }
    let db: Db;
    if (inMemory) {
      db = readIntoMemory(file);
      try {
        inspectProjectFile(file, { db });
      } catch (error) {
        db.close();
        throw error;
      }
    } else {
      inspectProjectFile(file);
      db = openDatabase(file, { readonly: true });
    }
    const version = schemaVersion(db);
    if (version !== migrations.length) {
      db.close();
      throw new ProjectFileError(
        file,
        `has schema version ${version}, this build reads version ${migrations.length}`,
        'Open it for writing once (on a local disk) to upgrade it.',
      );
    }
    return new ProjectStore(absolute, db, null, reason, inMemory);
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
    this.lock?.release();
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
