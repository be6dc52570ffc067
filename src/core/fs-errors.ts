/** File system errors in words a user can act on, with the code kept for searching. */
import fs from 'node:fs';
import fsp from 'node:fs/promises';

const READ_FAILURES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'an input/output error',
  ELOOP: 'a loop of symbolic links',
  ENOENT: 'it is gone (removed while the folder was read, or a broken link)',
  ENOTDIR: 'a file stands where a folder should be',
  EISDIR: 'it is a folder',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  ENAMETOOLONG: 'the name is too long',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
  ESTALE: 'a stale network file handle',
  ETIMEDOUT: 'the network file system timed out',
};

/** `permission denied (EACCES)`; an error without a known code keeps its message. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const known = code ? READ_FAILURES[code] : undefined;
  if (known) return `${known} (${code})`;
  return error instanceof Error ? error.message : String(error);
}

/** What a directory entry or stat result is when it is not a regular file or a folder. */
export function specialFileKind(entry: {
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}): string | null {
  if (entry.isFIFO()) return 'a FIFO';
  if (entry.isSocket()) return 'a socket';
  if (entry.isCharacterDevice()) return 'a character device';
  if (entry.isBlockDevice()) return 'a block device';
  return null;
}

/**
 * Reads a file that must be a regular file: opened without blocking and checked on the open
 * handle, so a dataset file replaced by a FIFO (which a plain read would wait on forever) or a
 * device is refused, with no window between the check and the read.
 */
export async function readRegularFile(file: string): Promise<Buffer> {
  const handle = await fsp.open(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw new Error('a folder, not a file');
    if (!stat.isFile()) {
      throw new Error(`not a regular file (${specialFileKind(stat) ?? 'unknown kind'})`);
    }
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
