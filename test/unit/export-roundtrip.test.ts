/**
 * The proof of issue 7: a demo project's masks exported, the output imported as a new dataset with
 * the project's importer, every mask pixel-equal; manifest hashes match the files; COCO RLE decodes
 * to the same masks. Also the other formats and the CLI.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoProject } from '../../src/core/dataset/demo';
import { importDataset } from '../../src/core/dataset/import';
import { COCO_FILE, exportMasks } from '../../src/core/export/exporter';
import { MANIFEST_COLUMNS, parseCsv } from '../../src/core/export/manifest';
import { decodeRle, type CocoRle } from '../../src/core/formats/rle';
import { queryImages, type ImageRecord } from '../../src/core/project/images';
import { revisionMask, revisionPixels, savePrediction } from '../../src/core/project/masks';
import { encodeGray8 } from '../../src/core/project/mask-png';
import { ACTIVE_MODEL_KEY, saveCorrection } from '../../src/core/project/review';
import { ProjectStore } from '../../src/core/project/store';
import { maskMetrics } from '../../src/shared/metrics';
import { rectMask, tempDir } from './project-fixtures';

const SIZE = 48;
const MODEL = 'v1';
let base: string;
let store: ProjectStore;
let images: ImageRecord[];
/** The label in force of each image (correction, else ground truth), 0/255. */
const labels = new Map<number, Uint8Array>();

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function rawGray(file: string): Promise<{ data: Buffer; channels: number; width: number }> {
  // sharp widens gray to RGB on raw output unless told to keep one band.
  const { channels } = await sharp(file).metadata();
  const pipeline = channels === 1 ? sharp(file).toColourspace('b-w') : sharp(file);
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { data, channels: info.channels, width: info.width };
}

function readManifest(out: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(fs.readFileSync(path.join(out, 'manifest.csv'), 'utf8'));
  expect(header).toEqual([...MANIFEST_COLUMNS]);
  return rows.map((row) => Object.fromEntries(header.map((column, i) => [column, row[i]])));
}

beforeAll(async () => {
  base = tempDir('export-roundtrip');
  const projectDir = path.join(base, 'project');
  await createDemoProject(projectDir, { count: 10, size: SIZE, seed: 7 });
  store = ProjectStore.open(projectDir);
  images = queryImages(store.db);
  // A correction that differs from the ground truth, so Dice < 1 and `best` picks the correction.
  const corrected = images[1];
  await saveCorrection(store, {
    imageId: corrected.id,
    png: await encodeGray8(rectMask(SIZE, SIZE, 5, 6, 30, 20), SIZE, SIZE),
  });
  // Predictions of every image by one model: a diagonal ramp of probabilities.
  for (const image of images) {
    const probabilities = new Uint8Array(SIZE * SIZE).map(
      (_, i) => ((i % SIZE) * 5 + Math.floor(i / SIZE) * 3 + image.id) % 256,
    );
    await savePrediction(store.db, image.id, MODEL, probabilities);
  }
  store.setMeta(ACTIVE_MODEL_KEY, MODEL);
  images = queryImages(store.db);
  for (const image of images) {
    labels.set(
      image.id,
      await revisionMask(store.db, (image.correctionHeadId ?? image.groundTruthId)!),
    );
  }
});

afterAll(() => {
  store?.close();
  fs.rmSync(base, { recursive: true, force: true });
});

describe('export round trip', () => {
  it('re-imports the png export with pixel-equal masks, and the manifest hashes match the files', async () => {
    const out = path.join(base, 'out-png');
    const result = await exportMasks(store, { out, copyImages: true });
    expect(result.masks).toBe(images.length);
    expect(result.skipped).toEqual([]);

    const reimported = ProjectStore.open(path.join(base, 'reimport'));
    try {
      const imported = await importDataset(reimported, { root: out });
      expect(imported.layout).toMatch(/qata/);
      expect(imported.report.pairs).toBe(images.length);
      const byPath = new Map(queryImages(reimported.db).map((image) => [image.relPath, image]));
      for (const image of images) {
        const copy = byPath.get(image.relPath);
        expect(copy, image.relPath).toBeDefined();
        expect(copy!.split).toBe(image.split);
        expect(copy!.sha256).toBe(image.sha256); // the image was copied byte for byte
        const mask = await revisionMask(reimported.db, copy!.groundTruthId!);
        expect(Buffer.from(mask).equals(Buffer.from(labels.get(image.id)!)), image.relPath).toBe(
          true,
        );
      }
    } finally {
      reimported.close();
    }

    const rows = readManifest(out);
    expect(rows).toHaveLength(images.length);
    for (const row of rows) {
      expect(sha256(fs.readFileSync(path.join(out, row.mask_file)))).toBe(row.sha256);
      expect(sha256(fs.readFileSync(path.join(out, row.image_file)))).toBe(row.image_sha256);
      const image = images.find((candidate) => candidate.relPath === row.image)!;
      const label = labels.get(image.id)!;
      expect(Number(row.foreground_pixels)).toBe(label.filter((v) => v > 0).length);
      expect(row.review_state).toBe(image.reviewState);
      const truth = await revisionMask(store.db, image.groundTruthId!);
      expect(Number(row.dice)).toBeCloseTo(maskMetrics(label, truth).dice, 5);
      expect(row.source).toBe(image.correctionHeadId ? 'correction' : 'ground-truth');
      expect(row.mask_file).toMatch(/(^|\/)Ground-truths\/mask_[^/]+\.png$/);
    }
    expect(rows.some((row) => row.source === 'correction' && Number(row.dice) < 1)).toBe(true);
    // Every file written is listed, nothing else is in OUT.
    const onDisk = fs
      .readdirSync(out, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) =>
        path.relative(out, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'),
      )
      .sort();
    expect(onDisk).toEqual(result.files);
  });

  it('decodes the COCO RLE of every image to the same mask', async () => {
    const out = path.join(base, 'out-coco');
    await exportMasks(store, { out, format: 'coco' });
    const bytes = fs.readFileSync(path.join(out, COCO_FILE));
    const coco = JSON.parse(bytes.toString('utf8')) as {
      images: { id: number; file_name: string; width: number; height: number }[];
      annotations: {
        image_id: number;
        segmentation: CocoRle;
        area: number;
        bbox: number[];
        iscrowd: number;
      }[];
    };
    expect(coco.images).toHaveLength(images.length);
    for (const entry of coco.images) {
      const label = labels.get(entry.id)!;
      const annotations = coco.annotations.filter((a) => a.image_id === entry.id);
      const foreground = label.filter((v) => v > 0).length;
      expect(annotations).toHaveLength(foreground > 0 ? 1 : 0);
      const decoded = annotations[0]
        ? decodeRle(annotations[0].segmentation)
        : new Uint8Array(SIZE * SIZE);
      expect(Buffer.from(decoded).equals(Buffer.from(label))).toBe(true);
      if (annotations[0]) {
        expect(annotations[0].area).toBe(foreground);
        expect(annotations[0].iscrowd).toBe(1);
        expect(annotations[0].segmentation.size).toEqual([SIZE, SIZE]);
      }
      expect(entry.file_name).toBe(images.find((image) => image.id === entry.id)!.relPath);
    }
    for (const row of readManifest(out)) {
      expect(row.mask_file).toBe(COCO_FILE);
      expect(row.sha256).toBe(sha256(bytes));
    }
  });

  it('writes png01 as 0/1, probability maps as stored, and thresholds predictions', async () => {
    const out01 = path.join(base, 'out-01');
    await exportMasks(store, { out: out01, source: 'ground-truth', format: 'png01' });
    const outProbability = path.join(base, 'out-probability');
    await exportMasks(store, { out: outProbability, source: 'predicted', format: 'probability' });
    const outPredicted = path.join(base, 'out-predicted');
    await exportMasks(store, { out: outPredicted, source: 'predicted', threshold: 0.25 });
    const rows01 = readManifest(out01);
    const rowsPredicted = readManifest(outPredicted);
    expect(
      rowsPredicted.every((row) => row.model_version === MODEL && row.source === 'prediction'),
    ).toBe(true);
    for (const image of images) {
      const truth = await revisionMask(store.db, image.groundTruthId!);
      const file01 = rows01.find((row) => row.image === image.relPath)!.mask_file;
      const ones = await rawGray(path.join(out01, file01));
      expect(ones.channels).toBe(1);
      expect(ones.data.every((v, i) => v === (truth[i] ? 1 : 0))).toBe(true);

      const prediction = await revisionPixels(
        store.db,
        image.id && (await latestPredictionId(image)),
      );
      const probability = await rawGray(
        path.join(outProbability, rows01.find((r) => r.image === image.relPath)!.mask_file),
      );
      expect(Buffer.from(probability.data).equals(Buffer.from(prediction))).toBe(true);

      const row = rowsPredicted.find((r) => r.image === image.relPath)!;
      const binary = await rawGray(path.join(outPredicted, row.mask_file));
      const cut = 0.25 * 255;
      expect(
        binary.data.every((v, i) => v === (prediction[i] >= cut && prediction[i] > 0 ? 255 : 0)),
      ).toBe(true);
      expect(Number(row.foreground_pixels)).toBe(binary.data.filter((v) => v > 0).length);
      expect(Number(row.dice)).toBeCloseTo(maskMetrics(binary.data, truth).dice, 5);
    }
  });

  it('draws overlays: the image in gray, the mask contour in colour', async () => {
    const out = path.join(base, 'out-overlay');
    await exportMasks(store, { out, format: 'overlay' });
    const rows = readManifest(out);
    const image = images.find((candidate) => labels.get(candidate.id)!.some((v) => v > 0))!;
    const row = rows.find((r) => r.image === image.relPath)!;
    expect(row.mask_file).toMatch(/Overlays\/overlay_/);
    const overlay = await rawGray(path.join(out, row.mask_file));
    expect(overlay.channels).toBe(3);
    const source = await rawGray(path.join(store.dir, 'demo-dataset', image.relPath));
    const label = labels.get(image.id)!;
    let contour = 0;
    for (let i = 0; i < label.length; i++) {
      const [r, g, b] = [overlay.data[i * 3], overlay.data[i * 3 + 1], overlay.data[i * 3 + 2]];
      const x = i % SIZE;
      const inside = (j: number) => j >= 0 && j < label.length && label[j] > 0;
      const edge =
        label[i] > 0 &&
        (x === 0 ||
          x === SIZE - 1 ||
          !inside(i - 1) ||
          !inside(i + 1) ||
          !inside(i - SIZE) ||
          !inside(i + SIZE));
      if (edge) {
        contour++;
        expect([r, g, b]).toEqual([255, 48, 48]);
      } else {
        expect([r, g, b]).toEqual([
          source.data[i * source.channels],
          source.data[i * source.channels],
          source.data[i * source.channels],
        ]);
      }
    }
    expect(contour).toBeGreaterThan(0);
  });
});

async function latestPredictionId(image: ImageRecord): Promise<number> {
  const row = store.db
    .prepare(
      "SELECT id FROM mask_revisions WHERE image_id = ? AND source = 'prediction' ORDER BY id DESC LIMIT 1",
    )
    .get(image.id) as { id: number };
  return row.id;
}

describe('qataseg export', () => {
  const run = promisify(execFile);
  const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'qataseg.mjs');
  const qataseg = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [BIN, ...args]);
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };

  it('exports with --json, refuses a second run without --overwrite, and accepts it with', async () => {
    const out = path.join(base, 'out-cli');
    const args = ['export', '--project', store.dir, '--out', out, '--state', 'corrected', '--json'];
    const first = await qataseg(...args);
    expect(first.code).toBe(0);
    const result = JSON.parse(first.stdout) as { masks: number; files: string[] };
    expect(result.masks).toBe(images.filter((image) => image.reviewState === 'corrected').length);
    expect(result.files).toContain('manifest.csv');

    const again = await qataseg(...args);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exist.*mask_.*--overwrite/);
    expect((await qataseg(...args, '--overwrite')).code).toBe(0);

    const badState = await qataseg(
      'export',
      '--project',
      store.dir,
      '--out',
      out,
      '--state',
      'done',
    );
    expect(badState.code).toBe(2);
    expect(badState.stderr).toMatch(/--state: unknown value "done"/);
  });
});
