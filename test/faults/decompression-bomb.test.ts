/**
 * Fault suite: decompression bombs sent to the real `qataseg serve` (a child process, HTTP on a
 * free loopback port), as mask saves and as files of a dataset being imported.
 *
 * Bound: the server's peak resident memory (VmHWM, Linux) grows by less than 64 MiB over the
 * whole run, while the bombs inflate to 400 MB (gray 20000x20000), 432 MB (RGB 12000x12000) and
 * 81 MB (a 9000x9000 image file) and the old code took 110 MB to 1.26 GB on one of them. After each
 * fault the server answers, and every dataset folder hashes as it did before.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTP_API_PREFIX, TOKEN_HEADER } from '../../src/shared/channels';
import { tempDir, writeGrayPng } from '../unit/project-fixtures';
import { deflatedZeros, pngBomb, pngWith } from './png-bombs';
import { treeHash } from './tree-hash';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const bin = path.join(repoRoot, 'bin/qataseg.mjs');
const MiB = 1024 * 1024;
const PEAK_GROWTH_BOUND = 64 * MiB;
const SIZE = 64;

let base: string;
let server: ChildProcess;
let url: string;
let token: string;
let stderr = '';

/** Peak and current resident memory of the server, in bytes (Linux /proc). */
function memory(): { peak: number; now: number } | null {
  try {
    const status = fs.readFileSync(`/proc/${server.pid}/status`, 'utf8');
    const kib = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]);
    return { peak: kib('VmHWM') * 1024, now: kib('VmRSS') * 1024 };
  } catch {
    return null;
  }
}

interface Answer {
  status: number;
  // The contract's JSON; each test reads the fields it checks.
  body: {
    message?: string;
    id?: string;
    items?: { id: number }[];
  } & Record<string, unknown>;
}

interface FinishedJob {
  id: string;
  state: string;
  error: string | null;
  result: {
    report: { skipped: { path: string; reason: string }[] };
    refresh: { added: number };
  };
}

async function call(method: string, input: unknown): Promise<Answer> {
  const response = await fetch(new URL(`${HTTP_API_PREFIX}${method}`, url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', [TOKEN_HEADER]: token },
    body: JSON.stringify(input ?? {}),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

async function waitForJob(id: string): Promise<FinishedJob> {
  for (;;) {
    const { body } = await call('jobs.list', {});
    const jobs = body as unknown as FinishedJob[];
    const job = jobs.find((candidate) => candidate.id === id);
    if (job && job.state !== 'running') return job;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

let hashes: Map<string, string>;
let baseline: { peak: number; now: number } | null;
let imageId: number;

function datasetFolders() {
  return [path.join(base, 'dataset'), path.join(base, 'bombs')];
}

function expectDatasetsUnchanged() {
  for (const [folder, hash] of hashes) expect(treeHash(folder), folder).toBe(hash);
}

function expectMemoryBound() {
  const after = memory();
  if (!baseline || !after) return; // not Linux: the RSS bound is not measured here
  expect(after.peak - baseline.peak, `peak RSS ${after.peak / MiB} MiB`).toBeLessThan(
    PEAK_GROWTH_BOUND,
  );
}

beforeAll(async () => {
  base = tempDir('fault-bomb');
  execFileSync(process.execPath, [
    bin,
    'demo',
    '--out',
    path.join(base, 'dataset'),
    '--count',
    '6',
    '--size',
    String(SIZE),
    '--project',
    path.join(base, 'project'),
  ]);
  // A second dataset for the import fault: one ordinary image and two bombs.
  const bombs = path.join(base, 'bombs');
  await writeGrayPng(path.join(bombs, 'ordinary.png'), new Uint8Array(SIZE * SIZE), SIZE, SIZE);
  fs.writeFileSync(path.join(bombs, 'bomb.png'), await pngBomb(9000, 9000));
  fs.writeFileSync(
    path.join(bombs, 'liar.png'),
    pngWith(2147483647, 2147483647, zlib.deflateSync(Buffer.alloc(300))),
  );
  hashes = new Map(datasetFolders().map((folder) => [folder, treeHash(folder)]));

  server = spawn(
    process.execPath,
    [bin, 'serve', '--project', path.join(base, 'project'), '--port', '0', '--json'],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stderr!.setEncoding('utf8');
  server.stderr!.on('data', (chunk: string) => (stderr += chunk));
  const line = await new Promise<string>((resolve, reject) => {
    server.once('exit', (code) => reject(new Error(`qataseg serve exited ${code}: ${stderr}`)));
    readline.createInterface({ input: server.stdout! }).once('line', resolve);
  });
  ({ url, token } = JSON.parse(line) as { url: string; token: string });
  const { body: images, status: listed } = await call('images.list', {});
  if (!images.items) throw new Error(`images.list answered ${listed}: ${JSON.stringify(images)}`);
  imageId = images.items[0].id;
  baseline = memory();
}, 120_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  fs.rmSync(base, { recursive: true, force: true });
});

describe('decompression bombs against the real server', () => {
  it('refuses bomb mask saves from the header, within the memory bound, and stays up', async () => {
    const bombs = [
      { png: await pngBomb(20000, 20000), size: '20000x20000' },
      {
        png: pngWith(12000, 12000, await deflatedZeros((12000 * 3 + 1) * 12000), 2),
        size: '12000x12000',
      },
    ];
    for (const { png, size } of bombs) {
      const { status, body } = await call('masks.save', { imageId, png: png.toString('base64') });
      expect(status).toBe(400);
      expect(body.message).toBe(`mask is ${size}, image ${imageId} is ${SIZE}x${SIZE}`);
      expectMemoryBound();
    }
    // The right size, but data that inflates far past it: the capped inflate refuses it.
    // All-zero rows are a valid empty mask; 300 MiB more zeros follow them.
    const padded = pngWith(SIZE, SIZE, await deflatedZeros((SIZE + 1) * SIZE + 300 * MiB));
    const { status, body } = await call('masks.save', { imageId, png: padded.toString('base64') });
    expect(status).toBe(400);
    expect(body.message).toMatch(/longer than its 64x64 size/);
    expectMemoryBound();

    const { status: alive } = await call('images.list', {});
    expect(alive).toBe(200);
    expectDatasetsUnchanged();
  });

  it('skips bomb image files at import from their header, within the memory bound', async () => {
    const { status, body: job } = await call('dataset.import', { root: path.join(base, 'bombs') });
    expect(status).toBe(200);
    const done = await waitForJob(job.id!);
    expect(done.state, done.error ?? '').toBe('succeeded');
    const skipped = Object.fromEntries(
      done.result.report.skipped.map((item) => [item.path, item.reason]),
    );
    expect(skipped['bomb.png']).toMatch(/^image is 9000x9000/);
    expect(skipped['liar.png']).toMatch(/^image is 2147483647x2147483647/);
    expect(done.result.refresh.added).toBe(1);
    expectMemoryBound();
    expectDatasetsUnchanged();
    expect(stderr).not.toMatch(/FATAL|heap out of memory/);
  });
});
