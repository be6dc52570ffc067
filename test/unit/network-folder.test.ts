/**
 * Projects on shared folders: the filesystem type is told from the mount table; a project on a
 * network (or FUSE) filesystem is never opened for writing there (SQLite's WAL would run where its
 * shared memory is not shared): the user is told why and offered a read-only review or a local
 * copy. The open path is driven on a local folder with the detection forced (QATASEG_FS_TYPE).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  classifyFilesystem,
  filesystemType,
  mountOf,
  parseMacMount,
  parseMountInfo,
  unsafeForWal,
} from '../../src/core/project/filesystem';
import { NetworkFolderError, ProjectStore } from '../../src/core/project/store';
import { startServe, type ServeProcess } from '../faults/serve-process';
import { projectWithImages, tempDir } from './project-fixtures';

const bin = path.resolve(import.meta.dirname, '../../bin/qataseg.mjs');
const execFileAsync = promisify(execFile);

function fingerprint(dir: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const file = path.join(entry.parentPath, entry.name);
    result[path.relative(dir, file)] = entry.isFile()
      ? createHash('sha256').update(fs.readFileSync(file)).digest('hex')
      : 'dir';
  }
  return result;
}

const running: ServeProcess[] = [];
afterEach(async () => {
  delete process.env.QATASEG_FS_TYPE;
  for (const serve of running.splice(0)) await serve.stop();
});

describe('filesystem detection', () => {
  it.each([
    ['nfs', 'network'],
    ['nfs4', 'network'],
    ['cifs', 'network'],
    ['smb3', 'network'],
    ['smbfs', 'network'],
    ['afpfs', 'network'],
    ['webdav', 'network'],
    ['9p', 'network'],
    ['ceph', 'network'],
    ['glusterfs', 'network'],
    ['fuse.sshfs', 'network'],
    ['fuse.rclone', 'network'],
    ['network', 'network'],
    ['fuse.gvfsd-fuse', 'fuse'],
    ['fuse', 'fuse'],
    ['macfuse', 'fuse'],
    ['fuseblk', 'local'],
    ['ext4', 'local'],
    ['xfs', 'local'],
    ['btrfs', 'local'],
    ['tmpfs', 'local'],
    ['overlay', 'local'],
    ['apfs', 'local'],
    ['ntfs', 'local'],
  ])('classifies %s as %s', (type, kind) => {
    expect(classifyFilesystem(type)).toBe(kind);
  });

  it('reads Linux mountinfo, escapes included, and picks the longest mount point', () => {
    const mountinfo = [
      '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
      '40 22 0:35 / /mnt/share rw,relatime shared:20 - nfs4 fileserver:/export rw,vers=4.2',
      '41 40 0:36 / /mnt/share/local\\040disk rw shared:21 - xfs /dev/sdb1 rw',
      '42 22 0:37 / /home/ana/remote rw,nosuid shared:22 - fuse.sshfs ana@host:/data rw',
    ].join('\n');
    const mounts = parseMountInfo(mountinfo);
    expect(mounts).toContainEqual({ mountPoint: '/mnt/share/local disk', type: 'xfs' });
    expect(mountOf(mounts, '/mnt/share/projects/p1')?.type).toBe('nfs4');
    expect(mountOf(mounts, '/mnt/share/local disk/p2')?.type).toBe('xfs');
    expect(mountOf(mounts, '/mnt/shared/p3')?.type).toBe('ext4');
    expect(mountOf(mounts, '/home/ana/remote/p4')?.type).toBe('fuse.sshfs');
  });

  it('reads macOS mount output', () => {
    const output = [
      '/dev/disk3s1s1 on / (apfs, sealed, local, read-only, journaled)',
      '//ana@fileserver/radiology on /Volumes/radiology (smbfs, nodev, nosuid, mounted by ana)',
      'fileserver:/export on /Volumes/nfs share (nfs, nodev, nosuid)',
    ].join('\n');
    const mounts = parseMacMount(output);
    expect(mountOf(mounts, '/Volumes/radiology/p')?.type).toBe('smbfs');
    expect(mountOf(mounts, '/Volumes/nfs share/p')?.type).toBe('nfs');
    expect(mountOf(mounts, '/Users/ana/p')?.type).toBe('apfs');
  });

  it.runIf(process.platform === 'linux')('tells the type of a real folder on this machine', () => {
    const type = filesystemType(tempDir('fs-type'));
    expect(type).toBeTruthy();
    expect(unsafeForWal(tempDir('fs-type'))).toBeNull();
  });

  it('takes a declared type for every folder or for folders under one', () => {
    const share = tempDir('declared-share');
    process.env.QATASEG_FS_TYPE = `cifs=${share}`;
    expect(filesystemType(path.join(share, 'project'))).toBe('cifs');
    expect(filesystemType(tempDir('declared-local'))).not.toBe('cifs');
    process.env.QATASEG_FS_TYPE = 'nfs4';
    expect(unsafeForWal(tempDir('declared-all'))).toBe('it is on a network filesystem (nfs4)');
  });
});

describe('a project on a network folder', () => {
  it('is not opened for writing, and the folder is left as it was', async () => {
    const { dir, store } = await projectWithImages([{ name: 'a.png', split: 'train' }]);
    store.close();
    const before = fingerprint(dir);
    process.env.QATASEG_FS_TYPE = 'nfs4';
    let thrown: unknown;
    try {
      ProjectStore.open(dir).close();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(NetworkFolderError);
    const message = (thrown as Error).message;
    expect(message).toContain('network filesystem (nfs4)');
    expect(message).toContain('--read-only');
    expect(message).toContain('qataseg copy-project');
    expect(fingerprint(dir)).toEqual(before);
    // Nor is a new project created on one.
    const fresh = path.join(tempDir('network-new'), 'project');
    expect(() => ProjectStore.open(fresh)).toThrow(NetworkFolderError);
    expect(fs.existsSync(fresh)).toBe(false);
  });

  it('qataseg serve refuses it, and serves it read-only for review with --read-only', async () => {
    const { dir, store, ids } = await projectWithImages([{ name: 'a.png', split: 'train' }]);
    store.close();
    const before = fingerprint(dir);
    const env = { ...process.env, QATASEG_FS_TYPE: `nfs4=${dir}` };
    const refused = await execFileAsync(
      process.execPath,
      [bin, 'serve', '--project', dir, '--port', '0'],
      { encoding: 'utf8', env },
    ).catch((error: { code: number; stderr: string }) => error);
    expect('code' in refused && refused.code).toBe(2);
    expect((refused as { stderr: string }).stderr).toMatch(/network filesystem \(nfs4\)/);

    const serve = await startServe(['--project', dir, '--read-only'], {
      QATASEG_FS_TYPE: `nfs4=${dir}`,
    });
    running.push(serve);
    expect(serve.stderr()).toMatch(/Read-only: it is on a network filesystem \(nfs4\)/);
    const call = (method: string, input: unknown) =>
      fetch(`${serve.url}api/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-qataseg-token': serve.token },
        body: JSON.stringify(input),
      });
    const state = (await (await call('project.state', {})).json()) as {
      readOnly: string;
      imageCount: number;
    };
    expect(state).toMatchObject({
      imageCount: 1,
      readOnly: 'it is on a network filesystem (nfs4)',
    });
    const save = await call('review.set', { imageId: ids[0], state: 'accepted' });
    expect(save.status).toBe(409);
    expect(((await save.json()) as { message: string }).message).toMatch(/read-only/);
    await serve.stop();
    // No lock, no token, no -wal or -shm: nothing was written to the share.
    expect(fingerprint(dir)).toEqual(before);
  });

  it('qataseg copy-project copies it to a local disk, leaving the original as it was', async () => {
    const { dir, store } = await projectWithImages([
      { name: 'a.png', split: 'train' },
      { name: 'b.png', split: 'test' },
    ]);
    store.close();
    fs.mkdirSync(path.join(dir, 'models', 'v1'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'models', 'v1', 'card.json'), '{}');
    const before = fingerprint(dir);
    const destination = path.join(tempDir('local-copy'), 'project');
    const { stdout } = await execFileAsync(
      process.execPath,
      [bin, 'copy-project', dir, destination, '--json'],
      { encoding: 'utf8', env: { ...process.env, QATASEG_FS_TYPE: `nfs4=${dir}` } },
    );
    expect(JSON.parse(stdout)).toMatchObject({ images: 2, models: 1, destination });
    expect(fingerprint(dir)).toEqual(before);
    const copy = ProjectStore.open(destination);
    expect(copy.counts().imageCount).toBe(2);
    expect(copy.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(copy.db.pragma('journal_mode', { simple: true })).toBe('wal');
    copy.close();
  });
});
