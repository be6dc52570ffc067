/**
 * The export's file operations: durable writes, directory fsync, moves that never replace, and
 * the atomic write of one output file (temporary name, then a link or rename into place).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { makeFolders } from '../guarded-files';

/** The file operations an export makes (tests replace them to simulate a full disk). */
export interface ExportIo {
  /** Creates `file` (never replaces one) and makes its bytes durable before resolving. */
  writeFile(file: string, data: Uint8Array | string): Promise<void>;
  /**
   * Moves a finished temporary file to its name. Without `replace` an existing file there is
   * never replaced: the move fails with EEXIST.
   */
  rename(from: string, to: string, replace?: boolean): Promise<void>;
  mkdir(dir: string): Promise<void>;
  unlink(file: string): Promise<void>;
  /** Makes the renames into `dir` durable, where the platform can. */
  syncDirectory(dir: string): Promise<void>;
}

/**
 * Writes a new file and fsyncs it before resolving, so a rename that follows can never publish
 * an empty or partial file after a power cut. Async: the write and the fsync run on libuv's
 * thread pool, not the host's event loop.
 */
export async function writeFileDurably(file: string, data: Uint8Array | string): Promise<void> {
  const handle = await fsp.open(file, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Errors of a directory fsync that mean "this file system cannot", not "the data is at risk". */
const DIRECTORY_SYNC_UNSUPPORTED = new Set(['EINVAL', 'EISDIR', 'EPERM', 'EBADF', 'ENOTSUP']);

/** fsyncs a directory so the renames into it survive a power cut (POSIX; Windows cannot). */
export async function syncDirectoryDurably(dir: string): Promise<void> {
  // Windows cannot open a folder for fsync; NTFS journals its metadata itself.
  if (process.platform === 'win32') return;
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch (error) {
    if (!DIRECTORY_SYNC_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
  } finally {
    await handle?.close();
  }
}

/** link(2) is refused by file systems without hard links (FAT, some network and FUSE mounts). */
const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK', 'EXDEV']);

/**
 * Gives `from` the name `to` unless a file has that name: link(2) fails on an existing name, so
 * there is no window in which a check passes and a rename then replaces a newcomer. Where links
 * are not supported, an exclusive copy (still never replacing) made durable before it counts.
 */
export async function moveWithoutReplacing(from: string, to: string): Promise<void> {
  try {
    await fsp.link(from, to);
  } catch (error) {
    if (!LINK_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    await fsp.copyFile(from, to, fs.constants.COPYFILE_EXCL);
    const handle = await fsp.open(to, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  await fsp.unlink(from);
}

export const nodeIo: ExportIo = {
  writeFile: writeFileDurably,
  rename: (from, to, replace) => (replace ? fsp.rename(from, to) : moveWithoutReplacing(from, to)),
  // One level at a time: Node's recursive mkdir loops forever where a parent answers ENOENT (/proc).
  mkdir: (dir) => makeFolders(dir),
  unlink: (file) => fsp.unlink(file),
  syncDirectory: syncDirectoryDurably,
};

// ---------------------------------------------------------------------------------------------
// Writing

const WRITE_FAILURES: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'a file stands where a folder is needed',
  EEXIST: 'a file stands where a folder is needed',
  EISDIR: 'a folder stands where a file goes',
  EMFILE: 'too many open files',
  EIO: 'an input/output error',
};

export function describeWriteError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const known = code ? WRITE_FAILURES[code] : undefined;
  if (known) return `${known} (${code})`;
  return error instanceof Error ? error.message : String(error);
}

let temporaryCounter = 0;

/** A file appeared at an output name after the export was planned (and was left alone). */
export class LateConflictError extends Error {
  constructor(file: string) {
    super(
      `a file appeared at ${file} after the export was planned; it was not replaced (pass --overwrite to replace files)`,
    );
    this.name = 'LateConflictError';
  }
}

/**
 * Writes `data` durably to a temporary name beside `file`, then moves it into place: a reader
 * (or a power cut) sees the old state or the whole new file. Without `replace`, a file that
 * exists at `file` by then is left alone (LateConflictError). The folder's fsync comes later,
 * once per folder (see runExport).
 */
export async function writeAtomic(
  io: ExportIo,
  file: string,
  data: Uint8Array | string,
  replace: boolean,
): Promise<void> {
  temporaryCounter = (temporaryCounter + 1) % 1_000_000_000;
  const temporary = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}-${temporaryCounter}.tmp`,
  );
  try {
    await io.writeFile(temporary, data);
    await io.rename(temporary, file, replace);
  } catch (error) {
    await io.unlink(temporary).catch(() => undefined);
    if (!replace && (error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new LateConflictError(file);
    }
    throw error;
  }
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
