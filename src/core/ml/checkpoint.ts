/**
 * The training loop's resumable state, kept beside the checkpointed model and optimizer, and the
 * way a checkpoint folder is replaced: whole or not at all. Free of tfjs so the host can read it
 * (models.list shows how far an unfinished run got).
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

// Not contract-ml's schema: importing the contract from here would make it load out of order.
const epochRecordSchema = z.object({
  epoch: z.number().int(),
  loss: z.number(),
  valDice: z.number().nullable(),
  seconds: z.number(),
  imagesPerSecond: z.number(),
});
export type EpochRecord = z.infer<typeof epochRecordSchema>;

export interface CheckpointState {
  /** Epochs completed. */
  epoch: number;
  history: EpochRecord[];
  bestEpoch: number;
  bestValDice: number | null;
  trainSeconds: number;
  trainedImages: number;
}

const checkpointStateSchema = z.object({
  epoch: z.number().int().nonnegative(),
  history: z.array(epochRecordSchema),
  bestEpoch: z.number().int().nonnegative(),
  bestValDice: z.number().nullable(),
  trainSeconds: z.number(),
  trainedImages: z.number(),
});

export const CHECKPOINT_STATE = 'state.json';
/** The model of the best validation epoch so far, inside each checkpoint. */
export const CHECKPOINT_BEST = 'best';

/** A file of a model version that cannot be read (torn by a crash, edited by hand). */
export class DamagedFileError extends Error {
  constructor(label: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`${label} is damaged: ${reason.split('\n')[0]}`);
    this.name = 'DamagedFileError';
  }
}

/** Reads and checks a JSON file; anything unreadable is a DamagedFileError naming `label`. */
export function readJsonFile<T>(file: string, label: string, schema: z.ZodType<T>): T {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new DamagedFileError(label, error);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DamagedFileError(label, error);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new DamagedFileError(label, z.prettifyError(parsed.error));
  return parsed.data;
}

/**
 * Writes a file through a temporary name and renames it, so a crash never leaves half a file; a
 * failed write (a full disk) removes the temporary file.
 */
export function writeFileAtomic(file: string, data: string | Buffer): void {
  replaceFileAtomic(file, (temporary) => fs.writeFileSync(temporary, data));
}

/** Like writeFileAtomic, with the temporary file made by `make` (a copy, ...). */
export function replaceFileAtomic(file: string, make: (temporary: string) => void): void {
  const temporary = `${file}.tmp-${process.pid}`;
  try {
    make(temporary);
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw error;
  }
}

const nextOf = (dir: string) => `${dir}.next`;
const previousOf = (dir: string) => `${dir}.prev`;

/**
 * The folder holding the current checkpoint: `dir`, or the previous one kept while a new one was
 * being put in place when a crash came between the two renames; null when there is none.
 */
export function currentCheckpoint(dir: string): string | null {
  for (const candidate of [dir, previousOf(dir)]) {
    if (fs.existsSync(path.join(candidate, CHECKPOINT_STATE))) return candidate;
  }
  return null;
}

/** The state of the current checkpoint; null when there is none, DamagedFileError if unreadable. */
export function readCheckpointState(checkpointDir: string): CheckpointState | null {
  const folder = currentCheckpoint(checkpointDir);
  if (!folder) return null;
  const label = path.join(path.basename(checkpointDir), CHECKPOINT_STATE).split(path.sep).join('/');
  return readJsonFile(path.join(folder, CHECKPOINT_STATE), label, checkpointStateSchema);
}

/**
 * Replaces folder `dir` with one written whole by `write`: the files go to `dir.next`, which is
 * renamed into place once complete, the old folder being kept as `dir.prev` for that moment. A
 * crash at any point leaves the old folder or the new one whole (currentCheckpoint falls back to
 * `.prev`); a failed write (a full disk) removes what it wrote and leaves the old folder as it was.
 */
export async function replaceFolder(
  dir: string,
  write: (folder: string) => Promise<void>,
): Promise<void> {
  const next = nextOf(dir);
  const previous = previousOf(dir);
  fs.rmSync(next, { recursive: true, force: true });
  try {
    fs.mkdirSync(next, { recursive: true });
    await write(next);
    syncTree(next);
  } catch (error) {
    fs.rmSync(next, { recursive: true, force: true });
    throw error;
  }
  if (fs.existsSync(dir)) {
    // Only a complete old folder is kept as the fallback; a stale `.prev` goes first.
    fs.rmSync(previous, { recursive: true, force: true });
    fs.renameSync(dir, previous);
  }
  fs.renameSync(next, dir);
  syncFolder(path.dirname(dir));
  fs.rmSync(previous, { recursive: true, force: true });
}

/** Flushes the files of a folder (and its sub-folders) to disk before it is renamed into place. */
function syncTree(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) syncTree(file);
    else if (entry.isFile()) syncFile(file);
  }
  syncFolder(dir);
}

function syncFile(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function syncFolder(dir: string): void {
  try {
    syncFile(dir);
  } catch {
    // Some platforms (Windows) cannot open a folder to flush it; the rename is still atomic.
  }
}

/**
 * Puts the files of folder `from` into `to` as hard links (no copy, the data is shared), or
 * copies where links are not possible.
 */
export function linkFolder(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    try {
      fs.linkSync(source, target);
    } catch {
      fs.copyFileSync(source, target);
    }
  }
}
