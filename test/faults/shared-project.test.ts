/**
 * Fault suite: one project, many writers. Two `qataseg serve` processes and a CLI import are
 * pointed at one project while four clients save masks as fast as they can: the second server is
 * refused naming the first, the import runs inside the first, no request answers 500, every
 * acknowledged save is in the project afterwards, integrity_check is ok, and the dataset folders
 * (which are not ours) are unchanged byte for byte. A truncated project.sqlite is refused by
 * `serve` and `import` and left as it was.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { ProjectStore } from '../../src/core/project/store';
import { qatasegBin, startServe, type ServeProcess } from './serve-process';

const execFileAsync = promisify(execFile);
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-faults-shared-'));
const running: ServeProcess[] = [];

afterAll(async () => {
  for (const serve of running) await serve.stop();
  fs.rmSync(base, { recursive: true, force: true });
});

async function qataseg(args: string[]) {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [qatasegBin, ...args], {
      encoding: 'utf8',
      env: { ...process.env, QATASEG_BACKEND: 'cpu' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** sha256 of every file under `dir`, by relative path. */
function hashTree(dir: string): Map<string, string> {
  const hashes = new Map<string, string>();
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    hashes.set(
      path.relative(dir, file),
      createHash('sha256').update(fs.readFileSync(file)).digest('hex'),
    );
  }
  return hashes;
}

describe('one project, many writers', () => {
  it('refuses the second server, runs the import in the first, loses no acknowledged save and answers no 500', async () => {
    const projectDir = path.join(base, 'project');
    const first = path.join(base, 'first');
    const second = path.join(base, 'second');
    for (const [out, seed] of [
      [first, '1'],
      [second, '2'],
    ] as const) {
      const made = await qataseg([
        'demo',
        '--out',
        out,
        '--count',
        '16',
        '--size',
        '64',
        '--seed',
        seed,
      ]);
      expect(made.code).toBe(0);
    }
    expect((await qataseg(['import', first, '--project', projectDir])).code).toBe(0);
    const datasetsBefore = [hashTree(first), hashTree(second)];

    const serve = await startServe(['--project', projectDir]);
    running.push(serve);
    const call = async (method: string, input: unknown) => {
      const response = await fetch(`${serve.url}api/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-qataseg-token': serve.token },
        body: JSON.stringify(input),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const listed = await call('images.list', { limit: 1000 });
    const images = listed.body.items as { id: number; width: number; height: number }[];
    expect(images.length).toBe(16);

    // Four savers, each on its own images, a different mask every time.
    const acknowledged: number[] = [];
    const statuses = new Map<number, number>();
    let stop = false;
    const saver = async (worker: number) => {
      for (let round = 0; !stop; round++) {
        const image = images[(worker + round * 4) % images.length];
        const pixels = Buffer.alloc(image.width * image.height);
        for (let x = 0; x < image.width; x++)
          pixels[((round * 3 + worker) % image.height) * image.width + x] = 255;
        const png = await sharp(pixels, {
          raw: { width: image.width, height: image.height, channels: 1 },
        })
          .png()
          .toBuffer();
        const saved = await call('masks.save', { imageId: image.id, png: png.toString('base64') });
        statuses.set(saved.status, (statuses.get(saved.status) ?? 0) + 1);
        if (saved.status === 200) acknowledged.push(saved.body.correctionRevisionId as number);
      }
    };
    const savers = [0, 1, 2, 3].map(saver);

    // Meanwhile: a second server on the project, and a CLI import of another dataset.
    const [secondServer, imported] = await Promise.all([
      qataseg(['serve', '--project', projectDir, '--port', '0']),
      qataseg(['import', second, '--project', projectDir, '--json']),
    ]);
    expect(secondServer.code).toBe(2);
    expect(secondServer.stderr).toContain(`pid ${serve.child.pid}`);
    expect(imported.code).toBe(0);
    expect(imported.stderr).toContain(serve.url);
    expect(JSON.parse(imported.stdout)).toMatchObject({ pairs: 16 });
    // Let the savers run a little past the import.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    stop = true;
    await Promise.all(savers);

    expect(serve.alive()).toBe(true);
    expect([...statuses.keys()]).toEqual([200]);
    expect(acknowledged.length).toBeGreaterThan(10);
    await serve.stop();

    const store = ProjectStore.open(projectDir);
    try {
      expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(store.counts().imageCount).toBe(32);
      const stored = store.db
        .prepare("SELECT id FROM mask_revisions WHERE source = 'correction'")
        .all() as {
        id: number;
      }[];
      const ids = new Set(stored.map((row) => row.id));
      expect(acknowledged.filter((id) => !ids.has(id))).toEqual([]);
    } finally {
      store.close();
    }
    expect([hashTree(first), hashTree(second)]).toEqual(datasetsBefore);
    console.log(
      `shared project: ${acknowledged.length} acknowledged saves during a second server and a CLI import, statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
  }, 300_000);

  it('refuses a truncated project.sqlite in serve and import, leaving it as it was', async () => {
    const projectDir = path.join(base, 'truncated');
    const dataset = path.join(base, 'truncated-data');
    expect(
      (
        await qataseg([
          'demo',
          '--out',
          dataset,
          '--count',
          '8',
          '--size',
          '64',
          '--project',
          projectDir,
        ])
      ).code,
    ).toBe(0);
    const file = path.join(projectDir, 'project.sqlite');
    fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2 / 4096) * 4096);
    const before = hashTree(projectDir);
    for (const args of [
      ['serve', '--project', projectDir, '--port', '0'],
      ['import', dataset, '--project', projectDir],
    ]) {
      const result = await qataseg(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/truncated/);
    }
    expect(hashTree(projectDir)).toEqual(before);
  }, 120_000);
});
