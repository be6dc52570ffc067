/**
 * The one way core touches a path that a user or a request named: where it points (a relative
 * path is relative to the project folder), what may be read there (a regular file no larger than
 * the purpose needs, never a FIFO, a device or a pseudo file system's entry) and where output may
 * go (an ordinary folder, created by a loop that always ends). A leaf: imports no room of core.
 *
 * Why: a named `/dev/zero` read whole took the server to gigabytes, a FIFO blocked a thread
 * forever, and Node's recursive mkdir under /proc retries ENOENT without end.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApiError } from '../shared/contract';
import { describeFsError, specialFileKind } from './fs-errors';

const MiB = 1024 * 1024;

/** Size limits by purpose: what the largest honest file of that kind needs. */
export const READ_LIMITS = {
  /** An ONNX model is one protobuf, which cannot exceed 2 GiB; large segmentation nets are ~1 GiB. */
  onnxModel: 1024 * MiB,
  /** A 2D prediction (mask PNG, one-slice NIfTI, a DICOM SEG of a study's images). */
  prediction: 256 * MiB,
  /** A JSON config or description. */
  config: 4 * MiB,
} as const;

/**
 * Paths that users type reach core through the contract from a window or browser that has no
 * working folder of its own: the server's working folder means nothing to them. A relative path
 * is relative to the project folder; `~` and `~/…` are the home folder of the user running core.
 * (The CLI resolves its arguments against the shell's working folder before they get here.)
 */
export function resolveUserPath(typed: string, projectDir: string | null): string {
  if (typed === '~') return os.homedir();
  if (typed.startsWith('~/') || (path.sep === '\\' && typed.startsWith('~\\'))) {
    return path.join(os.homedir(), typed.slice(2));
  }
  if (projectDir === null && !path.isAbsolute(typed))
    throw new ApiError(
      'bad-request',
      `${typed} is a relative path and no project is open to be relative to; give an absolute path`,
    );
  return path.resolve(projectDir ?? '', typed);
}

/** Kernel and device file systems: their entries are not files and folders a user keeps data in. */
const PSEUDO_ROOTS = ['/proc', '/sys', '/dev'];
const PSEUDO_FS_TYPES = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0xcafe4a11, 'bpf'],
  [0x62656570, 'configfs'],
  [0x6165676c, 'pstore'],
  [0xde5e81e4, 'efivarfs'],
]);

const isUnder = (child: string, parent: string) =>
  child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);

/** The name of the pseudo file system `existing` (a path that exists) lives on, or null. */
function pseudoFileSystem(existing: string): string | null {
  if (process.platform !== 'linux') return null;
  const root = PSEUDO_ROOTS.find((candidate) => isUnder(existing, candidate));
  if (root) return root;
  try {
    const type = fs.statfsSync(existing).type;
    return PSEUDO_FS_TYPES.get(type) ?? null;
  } catch {
    return null;
  }
}

/** The nearest existing folder at or above `absolute` (real path) and the names below it. */
function nearestExisting(absolute: string): { existing: string; missing: string[] } {
  const missing: string[] = [];
  let current = absolute;
  // Bounded: each turn moves one level up and the root is its own parent.
  for (;;) {
    try {
      return { existing: fs.realpathSync(current), missing: missing.reverse() };
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return { existing: current, missing: missing.reverse() };
      missing.push(path.basename(current));
      current = parent;
    }
  }
}

/**
 * Refuses an output (a file or folder to create) that is not in an ordinary folder: under /proc,
 * /sys, /dev or another kernel file system. Resolves with the real path the output will have.
 */
export function assertOrdinaryOutput(absolute: string): string {
  const { existing, missing } = nearestExisting(path.resolve(absolute));
  const pseudo = pseudoFileSystem(existing);
  if (pseudo)
    throw new ApiError(
      'bad-request',
      `${absolute} is on ${pseudo.startsWith('/') ? pseudo : `the ${pseudo} file system`}, a kernel file system, not an ordinary folder; choose a folder on a disk`,
    );
  return path.join(existing, ...missing);
}

/** The longest file name and path most file systems take (Linux NAME_MAX and PATH_MAX). */
const NAME_MAX_BYTES = 255;
const PATH_MAX_BYTES = 4095;

/**
 * Checks before anything is written that a file can be created at `absolute`: an ordinary folder
 * (assertOrdinaryOutput), names of a length the file system takes, and the nearest existing
 * folder is a folder the user may write in. A bad-request ApiError in words otherwise.
 */
export function assertWritableOutput(absolute: string): void {
  assertOrdinaryOutput(absolute);
  if (Buffer.byteLength(absolute) > PATH_MAX_BYTES)
    throw new ApiError('bad-request', `the path is too long (over ${PATH_MAX_BYTES} bytes)`);
  const long = absolute.split(path.sep).find((name) => Buffer.byteLength(name) > NAME_MAX_BYTES);
  if (long)
    throw new ApiError(
      'bad-request',
      `the name ${long.slice(0, 40)}… is too long (over ${NAME_MAX_BYTES} bytes) in ${absolute.slice(0, 80)}…`,
    );
  const { existing, missing } = nearestExisting(path.resolve(absolute));
  if (missing.length === 0) return; // the file exists: replacing it is the caller's decision
  const stat = fs.statSync(existing);
  if (!stat.isDirectory())
    throw new ApiError(
      'bad-request',
      `${existing} is a file, so ${absolute} cannot be created below it`,
    );
  try {
    fs.accessSync(existing, fs.constants.W_OK);
  } catch {
    throw new ApiError(
      'bad-request',
      `cannot write in ${existing}: permission denied; choose a folder you can write in`,
    );
  }
}

/**
 * Creates `dir` and its missing parents, one level at a time: bounded by the path's depth where
 * Node's recursive mkdir loops forever on a file system that answers ENOENT for a parent that
 * exists (/proc). The folder must be an ordinary one (assertOrdinaryOutput).
 */
export async function makeFolders(dir: string): Promise<void> {
  const absolute = path.resolve(dir);
  assertOrdinaryOutput(absolute);
  const { existing, missing } = nearestExisting(absolute);
  let current = existing;
  for (const name of missing) {
    current = path.join(current, name);
    try {
      await fsp.mkdir(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const stat = await fsp.stat(current);
      if (!stat.isDirectory())
        throw Object.assign(new Error(`${current} is a file, not a folder`), { code: 'ENOTDIR' });
    }
  }
}

/** Synchronous makeFolders, for the ML worker's single write. */
export function makeFoldersSync(dir: string): void {
  const absolute = path.resolve(dir);
  assertOrdinaryOutput(absolute);
  const { existing, missing } = nearestExisting(absolute);
  let current = existing;
  for (const name of missing) {
    current = path.join(current, name);
    try {
      fs.mkdirSync(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!fs.statSync(current).isDirectory())
        throw Object.assign(new Error(`${current} is a file, not a folder`), { code: 'ENOTDIR' });
    }
  }
}

const formatSize = (bytes: number) =>
  bytes >= MiB ? `${(bytes / MiB).toFixed(bytes >= 10 * MiB ? 0 : 1)} MiB` : `${bytes} bytes`;

/** Why a named file cannot be read: refused (bad-request) or absent (not-found), in words. */
function readRefusal(file: string, error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT') return new ApiError('not-found', `no file ${file}`);
  return new ApiError('bad-request', `cannot read ${file}: ${describeFsError(error)}`);
}

/**
 * Reads a file a user or request named: a regular file only (opened without blocking and
 * checked on the open handle, so a FIFO or a device is refused, not waited on or read without
 * end), at most `maxBytes` (checked by fstat before reading, and again while reading, since some
 * file systems report a size of 0). Errors are ApiErrors in words.
 */
export async function readNamedFile(
  file: string,
  maxBytes: number,
  what = 'the file',
): Promise<Buffer> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw readRefusal(file, error);
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory())
      throw new ApiError('bad-request', `${file} is a folder; ${what} must be a file`);
    if (!stat.isFile())
      throw new ApiError(
        'bad-request',
        `${file} is not a regular file (${specialFileKind(stat) ?? 'unknown kind'}); ${what} must be an ordinary file`,
      );
    const pseudo = pseudoFileSystem(fs.realpathSync(file));
    if (pseudo)
      throw new ApiError(
        'bad-request',
        `${file} is on ${pseudo.startsWith('/') ? pseudo : `the ${pseudo} file system`}, not an ordinary file`,
      );
    const tooLarge = () =>
      new ApiError(
        'bad-request',
        `${file} is larger than ${formatSize(maxBytes)}, more than ${what} can be`,
      );
    if (stat.size > maxBytes) throw tooLarge();
    // Read into a buffer one byte larger than allowed: filling it means the file is too large.
    const buffer = Buffer.alloc(Math.min(maxBytes + 1, Math.max(stat.size + 1, 64 * 1024)));
    let length = 0;
    let target = buffer;
    for (;;) {
      if (length === target.length) {
        if (target.length > maxBytes) throw tooLarge();
        const grown = Buffer.alloc(Math.min(maxBytes + 1, target.length * 2));
        target.copy(grown, 0, 0, length);
        target = grown;
      }
      const { bytesRead } = await handle.read(target, length, target.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return target.subarray(0, length);
  } catch (error) {
    throw readRefusal(file, error);
  } finally {
    await handle.close();
  }
}
