/**
 * Export throughput: masks/s of `exportMasks` for 224x224 masks (issue 7 asks for >= 500 masks/s
 * on the 2-core machines). A project of synthetic blob masks is built through the repositories,
 * then exported as png (every tenth image carries a correction, so Dice against the ground truth
 * is computed too), png01 and coco. Runnable alone: `npx tsx bench/export.ts [count]`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { exportMasks } from '../src/core/export/exporter';
import { insertImage, upsertDataset } from '../src/core/project/datasets';
import { addCorrection, setGroundTruth } from '../src/core/project/masks';
import { encodeGray8 } from '../src/core/project/mask-png';
import { ProjectStore } from '../src/core/project/store';
import type { ExportFormat } from '../src/shared/export-schemas';

export interface ExportBenchFigure {
  format: ExportFormat;
  masks: number;
  seconds: number;
  masksPerSecond: number;
  /** Masks per second of this process's CPU time (all threads): less sensitive to a busy machine. */
  masksPerCpuSecond: number;
}

export interface ExportBenchResult {
  name: 'export';
  size: number;
  figures: ExportBenchFigure[];
  /** The target for png masks. */
  targetMasksPerSecond: number;
}

/** A mask with a few filled ellipses, deterministic by index. */
function blobMask(size: number, index: number): Uint8Array {
  const mask = new Uint8Array(size * size);
  for (let blob = 0; blob < 1 + (index % 3); blob++) {
    const cx = ((index * 37 + blob * 71) % (size - 40)) + 20;
    const cy = ((index * 53 + blob * 29) % (size - 40)) + 20;
    const rx = 6 + ((index + blob) % 14);
    const ry = 5 + ((index * 3 + blob) % 12);
    for (let y = Math.max(0, cy - ry); y < Math.min(size, cy + ry); y++) {
      for (let x = Math.max(0, cx - rx); x < Math.min(size, cx + rx); x++) {
        if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1) mask[y * size + x] = 255;
      }
    }
  }
  return mask;
}

async function buildProject(dir: string, root: string, count: number, size: number) {
  const store = ProjectStore.open(dir);
  const datasetId = upsertDataset(store.db, {
    root,
    layout: 'qata-v2',
    maskPattern: null,
    controlsAsNegative: false,
  });
  const encoded: { png: Buffer; foreground: number }[] = [];
  for (let i = 0; i < Math.min(count, 64); i++) {
    const mask = blobMask(size, i);
    encoded.push({
      png: await encodeGray8(mask, size, size),
      foreground: mask.reduce((n, v) => n + (v ? 1 : 0), 0),
    });
  }
  store.db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const { png, foreground } = encoded[i % encoded.length];
      const name = `covid_${String(i).padStart(5, '0')}.png`;
      const id = insertImage(store.db, {
        datasetId,
        relPath: `${i % 5 === 0 ? 'Test Set' : 'Train Set'}/Images/${name}`,
        name,
        split: i % 5 === 0 ? 'test' : 'train',
        width: size,
        height: size,
        bitDepth: 8,
        channels: 1,
        format: 'png',
        fileSize: 1,
        sha256: `bench-${i}`,
      });
      setGroundTruth(store.db, id, { png, width: size, height: size, foreground, sha256: null });
      if (i % 10 === 0) {
        const other = encoded[(i + 1) % encoded.length];
        addCorrection(store.db, id, {
          png: other.png,
          width: size,
          height: size,
          foreground: other.foreground,
          author: 'bench',
        });
      }
    }
  })();
  return store;
}

export async function runExportBench(
  options: { count?: number; size?: number; formats?: ExportFormat[]; concurrency?: number } = {},
): Promise<ExportBenchResult> {
  const count = options.count ?? 2000;
  const size = options.size ?? 224;
  const formats = options.formats ?? ['png', 'png01', 'coco'];
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-bench-export-'));
  const root = path.join(base, 'dataset');
  fs.mkdirSync(root);
  const store = await buildProject(path.join(base, 'project'), root, count, size);
  const figures: ExportBenchFigure[] = [];
  try {
    for (const format of formats) {
      const cpuBefore = process.cpuUsage();
      // The whole call: planning (queries, existence checks) as well as writing.
      const started = performance.now();
      const result = await exportMasks(
        store,
        { out: path.join(base, `out-${format}`), format },
        undefined,
        { concurrency: options.concurrency },
      );
      const cpu = process.cpuUsage(cpuBefore);
      const seconds = (performance.now() - started) / 1000;
      figures.push({
        format,
        masks: result.masks,
        seconds: Number(seconds.toFixed(3)),
        masksPerSecond: Math.round(result.masks / seconds),
        masksPerCpuSecond: Math.round(result.masks / ((cpu.user + cpu.system) / 1e6)),
      });
    }
  } finally {
    store.close();
    fs.rmSync(base, { recursive: true, force: true });
  }
  return { name: 'export', size, figures, targetMasksPerSecond: 500 };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const count = Number(process.argv[2]) || 2000;
  const result = await runExportBench({ count });
  for (const figure of result.figures) {
    process.stdout.write(
      `export ${figure.format.padEnd(6)} ${figure.masks} masks ${result.size}x${result.size} in ${figure.seconds} s: ${figure.masksPerSecond} masks/s, ${figure.masksPerCpuSecond} per CPU-second (target >= ${result.targetMasksPerSecond} for png)\n`,
    );
  }
}
