/**
 * A project's named PACS connections (table `pacs_connections`, migration 8) and where their
 * secrets live. The database never holds a password or token: the host injects a SecretStore
 * (Electron's safeStorage where the OS has a keychain; the CLI and the server keep a file
 * `<project>/.secrets/<name>` readable by its owner only).
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  pacsAddInputSchema,
  pacsConnectionSchema,
  type PacsAddInput,
  type PacsConnection,
} from '../../shared/pacs-schemas';
import type { ProjectStore } from '../project/store';

/** Keeps one secret per connection name, out of the project database. */
export interface SecretStore {
  /** Where secrets go, for messages ("an owner-only file", "the OS keychain"). */
  readonly description: string;
  get(name: string): string | null;
  set(name: string, secret: string): void;
  remove(name: string): void;
}

export const SECRETS_DIR = '.secrets';

/** Secrets as files `<project>/.secrets/<name>`, mode 0600 in a 0700 folder. */
export class FileSecretStore implements SecretStore {
  readonly description = 'a file readable by its owner only';

  constructor(private readonly projectDir: string) {}

  private file(name: string): string {
    // Names are checked by pacsNameSchema; basename keeps a bad one from leaving the folder.
    return path.join(this.projectDir, SECRETS_DIR, path.basename(name));
  }

  get(name: string): string | null {
    try {
      return fs.readFileSync(this.file(name), 'utf8');
    } catch {
      return null;
    }
  }

  set(name: string, secret: string): void {
    const dir = path.join(this.projectDir, SECRETS_DIR);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
    const file = this.file(name);
    const temporary = `${file}.${process.pid}.tmp`;
    // Created 0600 before the secret is written, so it is never readable by others.
    fs.writeFileSync(temporary, secret, { mode: 0o600, flag: 'w' });
    fs.chmodSync(temporary, 0o600);
    fs.renameSync(temporary, file);
  }

  remove(name: string): void {
    fs.rmSync(this.file(name), { force: true });
  }
}

interface ConnectionRow {
  name: string;
  kind: 'dicomweb' | 'dimse';
  url: string | null;
  host: string | null;
  port: number | null;
  aet: string | null;
  our_aet: string | null;
  our_port: number | null;
  auth: 'none' | 'basic' | 'bearer';
  username: string | null;
  ca_file: string | null;
  created_at: string;
}

function toConnection(row: ConnectionRow, secrets: SecretStore): PacsConnection {
  return pacsConnectionSchema.parse({
    name: row.name,
    kind: row.kind,
    url: row.url,
    host: row.host,
    port: row.port,
    aet: row.aet,
    ourAet: row.our_aet,
    ourPort: row.our_port,
    auth: row.auth,
    username: row.username,
    caFile: row.ca_file,
    hasSecret: row.auth !== 'none' && secrets.get(row.name) !== null,
    createdAt: row.created_at,
  });
}

export class PacsConnectionError extends Error {
  constructor(
    readonly code: 'bad-request' | 'not-found',
    message: string,
  ) {
    super(message);
    this.name = 'PacsConnectionError';
  }
}

export function listConnections(store: ProjectStore, secrets: SecretStore): PacsConnection[] {
  const rows = store.db
    .prepare('SELECT * FROM pacs_connections ORDER BY name')
    .all() as ConnectionRow[];
  return rows.map((row) => toConnection(row, secrets));
}

export function getConnection(
  store: ProjectStore,
  secrets: SecretStore,
  name: string,
): PacsConnection {
  const row = store.db.prepare('SELECT * FROM pacs_connections WHERE name = ?').get(name) as
    ConnectionRow | undefined;
  if (!row) throw new PacsConnectionError('not-found', `no PACS connection named ${name}`);
  return toConnection(row, secrets);
}

/** Adds or replaces a connection; its secret (if any) goes to `secrets`, never to the database. */
export function addConnection(
  store: ProjectStore,
  secrets: SecretStore,
  input: PacsAddInput,
): PacsConnection {
  const checked = pacsAddInputSchema.parse(input);
  if (checked.kind === 'dicomweb') {
    if (checked.auth === 'basic' && !checked.username)
      throw new PacsConnectionError('bad-request', 'basic authentication needs a user name');
    if (checked.auth !== 'none' && !checked.secret && secrets.get(checked.name) === null)
      throw new PacsConnectionError(
        'bad-request',
        `${checked.auth} authentication needs a ${checked.auth === 'basic' ? 'password' : 'token'}`,
      );
    if (checked.caFile && !fs.existsSync(checked.caFile))
      throw new PacsConnectionError('bad-request', `CA file not found: ${checked.caFile}`);
  }
  const row: ConnectionRow =
    checked.kind === 'dicomweb'
      ? {
          name: checked.name,
          kind: 'dicomweb',
          url: checked.url.replace(/\/+$/, ''),
          host: null,
          port: null,
          aet: null,
          our_aet: null,
          our_port: null,
          auth: checked.auth,
          username: checked.username ?? null,
          ca_file: checked.caFile ? path.resolve(checked.caFile) : null,
          created_at: new Date().toISOString(),
        }
      : {
          name: checked.name,
          kind: 'dimse',
          url: null,
          host: checked.host,
          port: checked.port,
          aet: checked.aet,
          our_aet: checked.ourAet,
          our_port: checked.ourPort,
          auth: 'none',
          username: null,
          ca_file: null,
          created_at: new Date().toISOString(),
        };
  store.db
    .prepare(
      `INSERT OR REPLACE INTO pacs_connections
         (name, kind, url, host, port, aet, our_aet, our_port, auth, username, ca_file, created_at)
       VALUES (@name, @kind, @url, @host, @port, @aet, @our_aet, @our_port, @auth, @username, @ca_file, @created_at)`,
    )
    .run(row);
  if (checked.kind === 'dicomweb' && checked.secret) secrets.set(checked.name, checked.secret);
  else if (row.auth === 'none') secrets.remove(checked.name);
  return toConnection(row, secrets);
}

export function removeConnection(store: ProjectStore, secrets: SecretStore, name: string): boolean {
  const result = store.db.prepare('DELETE FROM pacs_connections WHERE name = ?').run(name);
  secrets.remove(name);
  return result.changes > 0;
}
