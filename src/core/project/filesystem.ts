/**
 * Which filesystem a project folder is on. SQLite's write-ahead log keeps its index in a file
 * mapped into memory and shared by every process that opens the database; a network filesystem
 * does not share that memory between machines (and FUSE filesystems often not even between
 * processes), so a project there is never opened for writing. Detected from the filesystem type:
 * /proc/self/mountinfo on Linux, `mount` on macOS, the drive type on Windows.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Types that are network filesystems wherever they appear (Linux and macOS names). */
const NETWORK_TYPES = new Set([
  'nfs',
  'nfs4',
  'cifs',
  'smb',
  'smb2',
  'smb3',
  'smbfs',
  'afpfs',
  'webdav',
  'davfs',
  'ncpfs',
  'ncp',
  'afs',
  'coda',
  '9p',
  'ceph',
  'glusterfs',
  'lustre',
  'gpfs',
  'beegfs',
  'ocfs2',
  'gfs2',
  'sshfs',
  'network', // Windows: DriveType Network, or a UNC path
]);

/** FUSE types backed by a local disk (NTFS and exFAT drives through ntfs-3g or exfat-fuse). */
const LOCAL_FUSE_TYPES = new Set(['fuseblk', 'fuse.ntfs-3g', 'fuse.exfat', 'fuse.exfat-fuse']);

export type FilesystemKind = 'local' | 'network' | 'fuse';

/** Whether SQLite's WAL can run on a filesystem of this type. */
export function classifyFilesystem(type: string): FilesystemKind {
  const name = type.toLowerCase();
  if (NETWORK_TYPES.has(name) || name.startsWith('nfs')) return 'network';
  if (name === 'fuse.sshfs' || name.startsWith('fuse.rclone') || name === 'fuse.s3fs') {
    return 'network';
  }
  if (LOCAL_FUSE_TYPES.has(name)) return 'local';
  if (name === 'fuse' || name.startsWith('fuse.') || name === 'osxfuse' || name === 'macfuse') {
    return 'fuse';
  }
  return 'local';
}

export interface Mount {
  mountPoint: string;
  type: string;
}

/** /proc/self/mountinfo: field 5 is the mount point (octal escapes), the type follows " - ". */
export function parseMountInfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const separator = line.indexOf(' - ');
    if (separator < 0) continue;
    const fields = line.slice(0, separator).split(' ');
    const type = line.slice(separator + 3).split(' ')[0];
    if (fields.length < 5 || !type) continue;
    mounts.push({ mountPoint: unescapeOctal(fields[4]), type });
  }
  return mounts;
}

function unescapeOctal(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(parseInt(octal, 8)),
  );
}

/** macOS `mount`: `//user@server/share on /Volumes/share (smbfs, nodev, nosuid, mounted by me)`. */
export function parseMacMount(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const match = / on (.+) \(([^,)]+)/.exec(line);
    if (match) mounts.push({ mountPoint: match[1], type: match[2].trim() });
  }
  return mounts;
}

/** The mount holding `file`: the longest mount point that is a prefix of its real path. */
export function mountOf(mounts: Mount[], file: string): Mount | null {
  let best: Mount | null = null;
  for (const mount of mounts) {
    const point = mount.mountPoint.endsWith('/') ? mount.mountPoint : `${mount.mountPoint}/`;
    const inside = file === mount.mountPoint || file.startsWith(point) || mount.mountPoint === '/';
    if (inside && (!best || mount.mountPoint.length > best.mountPoint.length)) best = mount;
  }
  return best;
}

/** The real path of `dir`, or of its nearest ancestor that exists (a project not created yet). */
function realExistingPath(dir: string): string {
  let current = path.resolve(dir);
  for (;;) {
    try {
      return fs.realpathSync.native(current);
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return current;
      current = parent;
    }
  }
}

function windowsFilesystem(real: string): string | null {
  if (real.startsWith('\\\\')) return 'network';
  const drive = /^([a-zA-Z]):/.exec(real)?.[1];
  if (!drive) return null;
  try {
    const type = execFileSync(
      'powershell.exe',
      ['-NoProfile', '-Command', `[System.IO.DriveInfo]::new('${drive}:').DriveType`],
      { encoding: 'utf8', timeout: 5000, windowsHide: true },
    ).trim();
    return type === 'Network' ? 'network' : type.toLowerCase();
  } catch {
    return null;
  }
}

/**
 * `QATASEG_FS_TYPE=TYPE` (every folder) or `TYPE=FOLDER` (folders under FOLDER) declares a
 * filesystem type: to try the network-folder path on a local disk, or to name a mount whose type
 * is not recognised.
 */
function declaredType(real: string): string | null {
  const declared = process.env.QATASEG_FS_TYPE;
  if (!declared) return null;
  const separator = declared.indexOf('=');
  if (separator < 0) return declared;
  const folder = realExistingPath(declared.slice(separator + 1));
  const inside =
    real === folder || real.startsWith(folder.endsWith(path.sep) ? folder : folder + path.sep);
  return inside ? declared.slice(0, separator) : null;
}

/** The filesystem type of the folder, or null when it cannot be told. */
export function filesystemType(dir: string): string | null {
  const real = realExistingPath(dir);
  const declared = declaredType(real);
  if (declared) return declared;
  try {
    if (process.platform === 'linux') {
      return (
        mountOf(parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')), real)?.type ?? null
      );
    }
    if (process.platform === 'darwin') {
      const text = execFileSync('/sbin/mount', { encoding: 'utf8', timeout: 5000 });
      return mountOf(parseMacMount(text), real)?.type ?? null;
    }
    if (process.platform === 'win32') return windowsFilesystem(real);
  } catch {
    return null;
  }
  return null;
}

/**
 * Why a project in this folder must not run SQLite's WAL (network or FUSE filesystem), or null
 * when it may.
 */
export function unsafeForWal(dir: string): string | null {
  const type = filesystemType(dir);
  if (!type) return null;
  const kind = classifyFilesystem(type);
  if (kind === 'local') return null;
  return kind === 'network'
    ? `it is on a network filesystem (${type})`
    : `it is on a FUSE filesystem (${type})`;
}
