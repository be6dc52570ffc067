/**
 * Load of a team on one `qataseg serve --team` (issue 23): R simulated readers (R users, each with
 * its personal token), each saving a mask every I ms for D ms, over HTTP, against one server
 * process on this machine. Prints errors, lost saves (saves answered 200 that are not in the
 * project afterwards, counted in the database) and the save latency's p50/p95/p99 (target p99
 * < 300 ms).
 *
 *   npx tsx bench/team-load.ts [--readers 20] [--interval 2000] [--duration 60000] [--size 224]
 *
 * The readers are users with the role reader in one blind plan that assigns every image to every
 * reader; each save is `masks.save` as that reader, so it takes the reader's path: the blind
 * rule's checks, a child revision in the reader's own lineage (reading_revisions) and the audit
 * row, and the save's event goes to that reader's sockets only.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import sharp from 'sharp';
import { insertImage, upsertDataset } from '../src/core/project/datasets';
import { encodeGray8 } from '../src/core/project/mask-png';
import { ProjectStore } from '../src/core/project/store';
import { OWNER } from '../src/core/team/caller';
import { createPlan } from '../src/core/team/plans';
import { createUser } from '../src/core/team/users';
import { option } from './options';

const readers = Number(option('readers', '20'));
const intervalMs = Number(option('interval', '2000'));
const durationMs = Number(option('duration', '60000'));
const size = Number(option('size', '224'));
const repoRoot = path.resolve(import.meta.dirname, '..');

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** A project with one image per reader, R readers and a blind plan giving every reader every image. */
async function prepare(dir: string): Promise<{ tokens: string[]; imageIds: number[] }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-team-load-data-'));
  const store = ProjectStore.open(dir);
  try {
    const datasetId = upsertDataset(store.db, {
      root,
      layout: 'bench',
      maskPattern: null,
      controlsAsNegative: false,
    });
    const imageIds: number[] = [];
    const tokens: string[] = [];
    for (let i = 0; i < readers; i++) {
      const name = `reader-${i}.png`;
      const pixels = new Uint8Array(size * size).map((_, p) => (p * 7 + i * 13) % 256);
      await sharp(Buffer.from(pixels), { raw: { width: size, height: size, channels: 1 } })
        .png()
        .toFile(path.join(root, name));
      imageIds.push(
        insertImage(store.db, {
          datasetId,
          relPath: name,
          name,
          split: 'train',
          width: size,
          height: size,
          bitDepth: 8,
          channels: 1,
          format: 'png',
          fileSize: 1,
          sha256: `bench-${i}`,
        }),
      );
      tokens.push((await createUser(store.db, `reader${i}`, 'reader')).token);
    }
    createPlan(store.db, { name: 'load', readersPerImage: 'all', blind: true }, OWNER, null);
    return { tokens, imageIds };
  } finally {
    store.close();
  }
}

/** A different mask for each save: a disc that moves with the save's number. */
async function maskPng(n: number): Promise<string> {
  const data = new Uint8Array(size * size);
  const cx = (size / 4 + n * 3) % size;
  const cy = size / 2;
  const r = size / 8;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      if ((x - cx) ** 2 + (y - cy) ** 2 < r * r) data[y * size + x] = 255;
  return (await encodeGray8(data, size, size)).toString('base64');
}

async function startServer(dir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    [
      path.join(repoRoot, 'bin/qataseg.mjs'),
      'serve',
      '--team',
      '--project',
      dir,
      '--port',
      '0',
      '--json',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = readline.createInterface({ input: child.stdout });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
    lines.on('line', (line) => {
      try {
        resolve((JSON.parse(line) as { url: string }).url);
      } catch {
        // not the JSON line
      }
    });
  });
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-team-load-'));
  const { tokens, imageIds } = await prepare(dir);
  const masks = await Promise.all(Array.from({ length: 8 }, (_, n) => maskPng(n)));
  const server = await startServer(dir);
  const loadStart = os.loadavg()[0];
  const latencies: number[] = [];
  const errors: string[] = [];
  let ok = 0;
  const saves = Math.floor(durationMs / intervalMs);
  process.stderr.write(
    `${readers} readers x ${saves} saves (every ${intervalMs} ms for ${durationMs / 1000} s), ${size}x${size} masks, against ${server.url}\n`,
  );
  const reader = async (i: number) => {
    // Spread the readers' first saves over one interval, as people do not click in step.
    const start = performance.now() + (intervalMs * i) / readers;
    for (let n = 0; n < saves; n++) {
      const due = start + n * intervalMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const body = JSON.stringify({ imageId: imageIds[i], png: masks[(i + n) % masks.length] });
      const t0 = performance.now();
      try {
        const response = await fetch(`${server.url}api/masks.save`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-qataseg-token': tokens[i] },
          body,
        });
        await response.arrayBuffer();
        latencies.push(performance.now() - t0);
        if (response.status === 200) ok++;
        else errors.push(`reader ${i} save ${n}: HTTP ${response.status}`);
      } catch (error) {
        errors.push(`reader ${i} save ${n}: ${(error as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: readers }, (_, i) => reader(i)));
  await server.stop();

  const store = ProjectStore.open(dir, { readOnly: 'counting after the benchmark' });
  const rows = (
    store.db.prepare('SELECT COUNT(*) AS n FROM reading_revisions').get() as { n: number }
  ).n;
  const audited = (
    store.db.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'masks.save'").get() as {
      n: number;
    }
  ).n;
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });

  const sorted = [...latencies].sort((a, b) => a - b);
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  process.stdout.write(
    [
      `saves attempted: ${readers * saves}, answered 200: ${ok}, errors: ${errors.length}`,
      `rows after: ${rows} reading revisions, ${audited} audit rows; lost saves: ${ok - rows}`,
      `save latency: p50 ${ms(percentile(sorted, 50))}, p95 ${ms(percentile(sorted, 95))}, p99 ${ms(percentile(sorted, 99))}, max ${ms(sorted.at(-1) ?? NaN)}`,
      `target p99 < 300 ms: ${percentile(sorted, 99) < 300 ? 'met' : 'NOT met'}`,
      // Other work on the machine shows in the tail: say how busy it was.
      `load average (1 min) at start ${loadStart.toFixed(1)}, at end ${os.loadavg()[0].toFixed(1)} on ${os.availableParallelism()} cores`,
      ...errors.slice(0, 10),
    ].join('\n') + '\n',
  );
}

void main();
