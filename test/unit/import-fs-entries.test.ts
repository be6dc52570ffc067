/**
 * What a dataset folder may hold besides readable image files, each a `skipped` entry (or a clear
 * error) that says what it is; none aborts the import: a sub-folder or file the importing user
 * cannot read (EACCES: produced for real by running the import as the `nobody` user, since root
 * reads everything), FIFOs and links to them, names that are not UTF-8, and a project folder on a
 * read-only mount.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { importDataset } from '../../src/core/dataset/import';
import { exportMasks } from '../../src/core/export/exporter';
import { queryImages } from '../../src/core/project/images';
import { ProjectStore } from '../../src/core/project/store';
import { Service } from '../../src/core/service';
import { importReportSchema } from '../../src/shared/dataset-schemas';
import { rectMask, tempDir, writeGrayPng } from './project-fixtures';

const W = 16;
const H = 12;
const bin = path.join(import.meta.dirname, '..', '..', 'bin', 'qataseg.mjs');
const isRoot = process.platform === 'linux' && process.getuid?.() === 0;
const hasSetpriv = isRoot && fs.existsSync('/usr/bin/setpriv');

async function pair(root: string, name: string) {
  await writeGrayPng(path.join(root, 'Images', name), new Uint8Array(W * H).fill(90), W, H);
  await writeGrayPng(
    path.join(root, 'Ground-truths', `mask_${name}`),
    rectMask(W, H, 1, 1, 6, 6),
    W,
    H,
  );
}

function reasons(skipped: { path: string; reason: string }[]) {
  return Object.fromEntries(skipped.map((item) => [item.path, item.reason]));
}

const mounts: string[] = [];
afterAll(() => {
  for (const mount of mounts.splice(0)) execFileSync('umount', [mount]);
});

describe('import of what a folder holds besides readable images', () => {
  it.skipIf(!hasSetpriv)(
    'lists a sub-folder and a file the user cannot read as skipped, and imports the rest (as nobody)',
    async () => {
      const base = tempDir('eacces');
      const root = path.join(base, 'data');
      await pair(root, 'a.png');
      await pair(root, 'b.png');
      await writeGrayPng(
        path.join(root, 'Control_Group_I', 'secret', 'c.png'),
        new Uint8Array(W * H),
        W,
        H,
      );
      await writeGrayPng(path.join(root, 'Control_Group_I', 'd.png'), new Uint8Array(W * H), W, H);
      const project = path.join(base, 'project');
      fs.mkdirSync(project);
      // Everything readable by others, but for one folder and one file (root's, mode 0700/0600).
      execFileSync('chmod', ['-R', 'a+rX', base]);
      fs.chmodSync(project, 0o777);
      fs.chmodSync(path.join(root, 'Control_Group_I', 'secret'), 0o700);
      fs.chmodSync(path.join(root, 'Images', 'b.png'), 0o600);

      const { stdout } = await promisify(execFile)('setpriv', [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        bin,
        'import',
        root,
        '--project',
        project,
        '--json',
      ]);
      const report = importReportSchema.parse(JSON.parse(stdout));
      const why = reasons(report.skipped);
      expect(why['Control_Group_I/secret']).toMatch(
        /^folder cannot be read: permission denied \(EACCES\)/,
      );
      expect(why['Images/b.png']).toMatch(/^permission denied \(EACCES\)/);
      expect(report.pairs).toBe(1);
      expect(report.splits.control).toBe(1);
    },
  );

  it.skipIf(process.platform === 'win32')(
    'lists FIFOs, and links to them, as not regular files instead of dropping or reading them',
    async () => {
      const root = tempDir('fifo');
      await pair(root, 'a.png');
      execFileSync('mkfifo', [path.join(root, 'Images', 'pipe.png')]);
      fs.symlinkSync(path.join(root, 'Images', 'pipe.png'), path.join(root, 'Images', 'link.png'));
      const store = ProjectStore.open(tempDir('fifo-project'));
      try {
        const { report } = await importDataset(store, { root });
        const why = reasons(report.skipped);
        expect(why['Images/pipe.png']).toBe('not a regular file (a FIFO)');
        expect(why['Images/link.png']).toBe('not a regular file (a FIFO)');
        expect(report.pairs).toBe(1);
      } finally {
        store.close();
      }
    },
  );

  it.skipIf(process.platform === 'win32')(
    'an imported file replaced by a FIFO is refused by display, thumbnails and export, never waited on',
    { timeout: 15_000 },
    async () => {
      const root = tempDir('fifo-later');
      await pair(root, 'a.png');
      const dir = tempDir('fifo-later-project');
      const store = ProjectStore.open(dir);
      await importDataset(store, { root });
      const [image] = queryImages(store.db, {});
      store.close();
      fs.rmSync(path.join(root, 'Images', 'a.png'));
      execFileSync('mkfifo', [path.join(root, 'Images', 'a.png')]);
      const service = new Service({ transport: 'http', projectDir: dir });
      try {
        for (const kind of ['image', 'thumbnail'] as const) {
          await expect(service.media(kind, image.id, new URLSearchParams())).rejects.toThrow(
            /Images\/a\.png.*not a regular file \(a FIFO\)/,
          );
        }
        const result = await exportMasks(service.project(), {
          out: tempDir('fifo-export'),
          format: 'overlay',
        });
        expect(result.skipped).toEqual([
          { image: 'Images/a.png', reason: 'image file unreadable: not a regular file (a FIFO)' },
        ]);
      } finally {
        service.close();
      }
    },
  );

  it.skipIf(process.platform !== 'linux')(
    'lists a name that is not UTF-8 as such, with its bytes, and imports the rest',
    async () => {
      const root = tempDir('latin1');
      await pair(root, 'a.png');
      const png = fs.readFileSync(path.join(root, 'Images', 'a.png'));
      // "café.png" in Latin-1: é is the single byte E9, not valid UTF-8.
      const name = Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from('.png')]);
      fs.writeFileSync(Buffer.concat([Buffer.from(`${root}/Images/`), name]), png);
      const store = ProjectStore.open(tempDir('latin1-project'));
      try {
        const { report } = await importDataset(store, { root });
        const entry = report.skipped.find((item) => item.path.startsWith('Images/caf'));
        expect(entry?.reason).toMatch(
          /^the name is not valid UTF-8 \(bytes 63 61 66 e9 2e 70 6e 67\)/,
        );
        expect(queryImages(store.db, {}).map((image) => image.relPath)).toEqual(['Images/a.png']);
      } finally {
        store.close();
      }
    },
  );

  it.skipIf(!isRoot)(
    'says the project folder is on a read-only file system; a dataset on one imports',
    async () => {
      const base = tempDir('readonly');
      const root = path.join(base, 'data');
      await pair(root, 'a.png');
      const mount = path.join(base, 'mnt');
      fs.mkdirSync(mount);
      execFileSync('mount', ['--bind', base, mount]);
      mounts.push(mount);
      execFileSync('mount', ['-o', 'remount,bind,ro', mount]);

      expect(() => ProjectStore.open(path.join(mount, 'project'))).toThrow(
        /cannot create the project folder .*mnt\/project: the file system is read-only \(EROFS\)/,
      );
      const store = ProjectStore.open(tempDir('readonly-project'));
      try {
        const { report } = await importDataset(store, { root: path.join(mount, 'data') });
        expect(report.pairs).toBe(1);
      } finally {
        store.close();
      }
    },
  );
});
