/**
 * A copy of a project in another folder (a local disk, for a project on a network folder): the
 * database through SQLite's online backup, read without writing anything into the source folder,
 * and the model versions. The source is left exactly as it was.
 */
import fs from 'node:fs';
import path from 'node:path';
import { unsafeForWal } from './filesystem';
import { DATABASE_FILE, MODELS_DIR, ProjectStore } from './store';

export class CopyRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyRefusedError';
  }
}

export interface CopyResult {
  source: string;
  destination: string;
  images: number;
  models: number;
  databaseBytes: number;
}

function inside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

export async function copyProject(source: string, destination: string): Promise<CopyResult> {
  const from = path.resolve(source);
  const to = path.resolve(destination);
  if (inside(from, to) || inside(to, from)) {
    throw new CopyRefusedError(`${to} and ${from} overlap: copy the project to a separate folder`);
  }
  if (fs.existsSync(to) && fs.readdirSync(to).length > 0) {
    throw new CopyRefusedError(`${to} is not empty: copy the project into a new or empty folder`);
  }
  const unsafe = unsafeForWal(to);
  if (unsafe) throw new CopyRefusedError(`${to} cannot hold a project for writing: ${unsafe}`);
  // On a network folder the source is read into memory once: nothing is created beside it.
  const sourceStore = ProjectStore.open(from, {
    readOnly: 'being copied',
    inMemory: unsafeForWal(from) !== null,
  });
  fs.mkdirSync(to, { recursive: true });
  const databaseFile = path.join(to, DATABASE_FILE);
  try {
    await sourceStore.db.backup(databaseFile);
  } finally {
    sourceStore.close();
  }
  const models = path.join(from, MODELS_DIR);
  if (fs.existsSync(models)) {
    await fs.promises.cp(models, path.join(to, MODELS_DIR), {
      recursive: true,
      // A training lock names a process of the source's machine, not of the copy.
      filter: (file) => path.basename(file) !== 'train.lock',
    });
  }
  // Opening the copy for writing checks it and brings it to WAL on the local disk.
  const copy = ProjectStore.open(to);
  try {
    const counts = copy.counts();
    return {
      source: from,
      destination: to,
      images: counts.imageCount,
      models: counts.modelCount,
      databaseBytes: fs.statSync(databaseFile).size,
    };
  } finally {
    copy.close();
  }
}
