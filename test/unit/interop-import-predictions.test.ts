/**
 * `qataseg import-predictions`: folders of predictions made elsewhere (PNG 0/1 and 0/255 masks
 * written by sharp, NIfTI written by nibabel, 8- and 16-bit probability PNGs, float NIfTI) paired
 * to the project's images by name, with the import's report (pairs, files matching no image, size
 * mismatches and other skips with reasons); stored pixel for pixel as a version that evaluates on
 * the locked test split, lists in `qataseg models`, feeds "what changed", and cannot be "run".
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ImportPredictionsResult } from '../../src/shared/interop-schemas';
import { latestPrediction, revisionPixels } from '../../src/core/project/masks';
import { ProjectStore } from '../../src/core/project/store';
import type { ModelSummary } from '../../src/shared/contract-ml';
import { python, qataseg, withService } from './interop-fixtures';
import { discProject } from './ml-fixtures';
import { rectMask, tempDir } from './project-fixtures';

const [W, H] = [48, 40];

async function writePng(file: string, data: Uint8Array | Uint16Array, w = W, h = H) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const sixteen = data instanceof Uint16Array;
  // A Uint16Array is read by sharp as 16-bit raw pixels.
  await sharp(data, { raw: { width: w, height: h, channels: 1 } })
    .toColourspace(sixteen ? 'grey16' : 'b-w')
    .png()
    .toFile(file);
}

/** The mask predicted for disc_<k>: a rectangle that moves with k. */
const predictedMask = (k: number) => rectMask(W, H, k, 5, 20 + k, 30);
const ones = (mask: Uint8Array) => mask.map((v) => (v > 0 ? 1 : 0));

let project: Awaited<ReturnType<typeof discProject>>;

async function stored(version: string, imageIndex: number): Promise<Uint8Array | null> {
  const store = ProjectStore.open(project.dir);
  try {
    const revision = latestPrediction(store.db, project.ids[imageIndex], version);
    return revision ? revisionPixels(store.db, revision.id) : null;
  } finally {
    store.close();
  }
}

beforeAll(async () => {
  project = await discProject(8, 3, W, H);
});

describe('qataseg import-predictions', () => {
  it('pairs masks of several formats by name and reports what it left out', async () => {
    const folder = tempDir('predictions');
    for (const k of [1, 2, 3, 4])
      await writePng(path.join(folder, `disc_${k}.png`), ones(predictedMask(k)));
    for (const k of [5, 6, 7])
      await writePng(path.join(folder, 'nested', `mask_disc_${k}.png`), predictedMask(k));
    const scratch = tempDir('predictions-scratch');
    for (const [k, name] of [
      [8, 'disc_8.nii.gz'],
      [9, 'disc_9.nii'],
    ] as const) {
      const png = path.join(scratch, `${k}.png`);
      await writePng(png, predictedMask(k));
      await python('make_nifti.py', png, path.join(folder, name), 'labels');
    }
    await writePng(path.join(folder, 'mask_disc_10.png'), new Uint8Array(20 * 20), 20, 20);
    await writePng(path.join(folder, 'unrelated.png'), predictedMask(1));
    fs.writeFileSync(path.join(folder, 'notes.txt'), 'predicted on the cluster');

    const run = await qataseg(
      'import-predictions',
      folder,
      '--project',
      project.dir,
      '--name',
      'cluster',
      '--json',
    );
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as ImportPredictionsResult;
    expect(result.version).toBe('cluster');
    expect(result.report).toMatchObject({
      pairs: 9,
      imagesWithoutMask: 2,
      orphanMasks: 1,
      splits: { train: 8, test: 1, control: 0, unassigned: 0 },
    });
    expect(result.report.skipped).toEqual([
      { path: 'notes.txt', reason: 'not a prediction format (PNG, NIfTI, DICOM SEG)' },
      {
        path: 'mask_disc_10.png',
        reason: 'prediction is 20x20 but its image Images/disc_10.png is 48x40',
      },
    ]);
    expect(result.report.warnings).toEqual([
      { path: 'unrelated.png', message: 'matches no image of the project' },
    ]);
    // Only disc_9 of the test split (disc_9..11) has a prediction.
    expect(result).toMatchObject({ testImages: 1, missingTest: 2 });

    for (let k = 1; k <= 9; k++) expect(await stored('cluster', k - 1)).toEqual(predictedMask(k));
    expect(await stored('cluster', 9)).toBeNull();

    const evaluated = await qataseg(
      'evaluate',
      '--project',
      project.dir,
      '--model',
      'cluster',
      '--json',
    );
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const evaluation = JSON.parse(evaluated.stdout) as { images: number; dice: number };
    expect(evaluation.images).toBe(1);
    expect(evaluation.dice).toBeCloseTo(result.testDice!, 10);

    const list = JSON.parse(
      (await qataseg('models', '--project', project.dir, '--json')).stdout,
    ) as ModelSummary[];
    expect(list).toEqual([
      expect.objectContaining({
        version: 'cluster',
        source: 'predictions',
        origin: fs.realpathSync(folder),
        backend: null,
        bytes: null,
        testDice: result.testDice,
      }),
    ]);

    await withService(project.dir, async (service) => {
      await expect(service.invoke('predict.start', { model: 'cluster' })).rejects.toThrow(
        /no model to run/,
      );
      const card = await service.invoke('models.get', { version: 'cluster' });
      expect(card.source).toMatchObject({ kind: 'predictions', probability: false, pairs: 9 });
      expect(card.source.kind === 'predictions' && card.source.formats).toEqual({
        png: 7,
        nifti: 2,
      });
    });
  }, 120_000);

  it('reads 8- and 16-bit probability PNGs and float NIfTI, and measures what changed', async () => {
    const folder = tempDir('probabilities');
    const eight = new Uint8Array(W * H).map((_, i) => (i * 5 + 3) % 256);
    const sixteen = new Uint16Array(W * H).map((_, i) => (i * 1237 + 11) % 65536);
    const forNifti = new Uint8Array(W * H).map((_, i) => (i * 3 + 100) % 256);
    await writePng(path.join(folder, 'disc_1.png'), eight);
    await writePng(path.join(folder, 'disc_2.png'), sixteen);
    const png = path.join(tempDir('probabilities-scratch'), 'p.png');
    await writePng(png, forNifti);
    await python('make_nifti.py', png, path.join(folder, 'disc_3.nii.gz'), 'probability');

    // The binary import is active: the probabilities are compared with it.
    await withService(project.dir, (service) =>
      service.invoke('models.promote', { version: 'cluster' }),
    );
    const run = await qataseg(
      'import-predictions',
      folder,
      '--project',
      project.dir,
      '--name',
      'soft',
      '--probability',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('pairs 3, images without prediction 8, files matching no image 0');
    expect(await stored('soft', 0)).toEqual(eight);
    expect(await stored('soft', 1)).toEqual(Uint8Array.from(sixteen, (u) => Math.round(u / 257)));
    expect(await stored('soft', 2)).toEqual(forNifti);

    const queue = await withService(project.dir, async (service) => {
      await service.invoke('models.promote', { version: 'soft' });
      return service.invoke('images.list', { sort: 'changed', direction: 'desc' });
    });
    const changed = queue.items.filter((item) => item.changed !== null);
    expect(changed.map((item) => item.name).sort()).toEqual([
      'disc_1.png',
      'disc_2.png',
      'disc_3.png',
    ]);
    expect(changed.every((item) => (item.changed ?? 0) > 0)).toBe(true);
  }, 120_000);

  it('refuses a taken name, a folder with nothing to pair and a missing folder, writing nothing', async () => {
    const before = fs.readdirSync(path.join(project.dir, 'models')).sort();
    const folder = tempDir('nothing');
    await writePng(path.join(folder, 'someone_else.png'), predictedMask(1));
    const pairable = tempDir('pairable');
    await writePng(path.join(pairable, 'disc_1.png'), predictedMask(1));
    const taken = await qataseg(
      'import-predictions',
      pairable,
      '--project',
      project.dir,
      '--name',
      'cluster',
    );
    expect(taken.code).toBe(2);
    expect(taken.stderr).toMatch(/a model version cluster exists already/);
    const nothing = await qataseg(
      'import-predictions',
      folder,
      '--project',
      project.dir,
      '--name',
      'empty',
    );
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(
      /no prediction in .* could be paired with an image of the project \(1 file\(s\) match no image/,
    );
    const missing = await qataseg(
      'import-predictions',
      path.join(folder, 'absent'),
      '--project',
      project.dir,
      '--name',
      'absent',
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/predictions folder not found/);
    expect(fs.readdirSync(path.join(project.dir, 'models')).sort()).toEqual(before);
  }, 60_000);
});
