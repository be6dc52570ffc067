/**
 * The test-time passes behind the uncertainty score (src/core/ml/tta.ts): each transform is undone
 * onto the image's pixels, and the score of several passes (src/core/math/uncertainty.ts
 * passesUncertainty) weighs their doubt by the lesion at stake, so a speck does not top the queue.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createDemoProject } from '../../src/core/dataset/demo';
import { latestPrediction, predictionStats, revisionPixels } from '../../src/core/project/masks';
import { createService, type Service } from '../../src/core/service';
import { tempDir } from './project-fixtures';
import {
  applyTransform,
  MAX_TEST_PASSES,
  testTransforms,
  undoTransform,
} from '../../src/core/ml/tta';
import {
  maskDisagreement,
  passesUncertainty,
  predictionUncertainty,
} from '../../src/core/math/uncertainty';

const SIZE = 32;

/** A non-symmetric test image: each pixel's value encodes its position. */
function ramp(): Float32Array {
  const image = new Float32Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) image[y * SIZE + x] = (y * SIZE + x) / (SIZE * SIZE);
  return image;
}

describe('test-time transforms', () => {
  it('the first pass is the plain image; the list is fixed and bounded', () => {
    expect(testTransforms(1, SIZE)).toEqual([{ flip: false, dx: 0, dy: 0 }]);
    expect(testTransforms(MAX_TEST_PASSES, SIZE)).toHaveLength(MAX_TEST_PASSES);
    expect(() => testTransforms(0, SIZE)).toThrow(/passes/);
    expect(() => testTransforms(MAX_TEST_PASSES + 1, SIZE)).toThrow(/passes/);
  });

  it('a transform moves the pixels, and undoing it puts each back where it was', () => {
    const image = ramp();
    for (const t of testTransforms(MAX_TEST_PASSES, SIZE)) {
      const shown = applyTransform(image, SIZE, t);
      // The transform does move the pixels (else the undo below would prove nothing).
      if (t.flip || t.dx || t.dy) expect(shown).not.toEqual(image);
      // A model that sees a pixel reports it where it saw it: undoing the transform of the
      // transformed image is the image, except within the shift of the border (edge filled).
      const back = undoTransform(shown, SIZE, t);
      const margin = Math.max(Math.abs(t.dx), Math.abs(t.dy));
      for (let y = margin; y < SIZE - margin; y++)
        for (let x = margin; x < SIZE - margin; x++)
          expect(back[y * SIZE + x], `${JSON.stringify(t)} at ${x},${y}`).toBe(image[y * SIZE + x]);
    }
    // The mirror: the pixel at x shows at SIZE - 1 - x.
    const mirrored = applyTransform(image, SIZE, { flip: true, dx: 0, dy: 0 });
    expect(mirrored[3 * SIZE + 0]).toBe(image[3 * SIZE + SIZE - 1]);
    // A shift by (2, 1): the pixel at (5, 5) shows at (7, 6).
    const shifted = applyTransform(image, SIZE, { flip: false, dx: 2, dy: 1 });
    expect(shifted[6 * SIZE + 7]).toBe(image[5 * SIZE + 5]);
  });
});

describe('the score of several passes', () => {
  /** A 1000-pixel map at `background` with pixels [from, to) set to `value`. */
  const map = (background: number, ...spots: [value: number, from: number, to: number][]) => {
    const p = new Uint8Array(1000).fill(background);
    for (const [value, from, to] of spots) p.fill(value, from, to);
    return p;
  };

  it('one pass is the plain score; passes that agree add nothing', () => {
    const lesion = map(10, [230, 0, 40], [150, 40, 50]);
    expect(passesUncertainty([lesion])).toBe(predictionUncertainty(lesion));
    expect(maskDisagreement([lesion, lesion, lesion])).toBe(0);
    expect(passesUncertainty([lesion, lesion])).toBeCloseTo(
      predictionUncertainty(lesion) / 1.5,
      12,
    );
    // Nothing drawn by any pass: no disagreement (what every pass misses, the passes cannot see).
    expect(maskDisagreement([map(10), map(12)])).toBe(0);
  });

  it('passes that draw the lesion in different places raise the score', () => {
    const a = map(10, [230, 0, 40]);
    const b = map(10, [230, 20, 60]);
    // Drawn by every pass: 20 of the 60 pixels any pass draws.
    expect(maskDisagreement([a, b])).toBeCloseTo(1 - 20 / 60, 12);
    expect(passesUncertainty([a, b])).toBeGreaterThan(passesUncertainty([a, a]));
  });

  it('a tiny speck does not top the queue, however much the passes disagree on it', () => {
    // One pixel at p = 0.5 in the plain pass, gone in the others: full disagreement and the most
    // undecided pixel there is, but one pixel of the 5 that count in full.
    const speck = [map(5, [128, 0, 1]), map(5), map(5), map(5)];
    // A 40-pixel lesion drawn at p = 0.78 whose outline the passes move by a few pixels.
    const lesion = [0, 2, 4, 6].map((shift) => map(5, [200, shift, 40 + shift]));
    expect(maskDisagreement(speck)).toBeCloseTo(1 / 5, 12);
    expect(passesUncertainty(speck)).toBeLessThan(passesUncertainty(lesion));
    // And a missed lesion the model nearly drew (20 pixels at p = 0.47) ranks above the speck.
    const missed = [0, 1, 2, 3].map(() => map(13, [120, 100, 120]));
    expect(passesUncertainty(speck)).toBeLessThan(passesUncertainty(missed));
  });
});

describe('the prediction job', () => {
  let service: Service | null = null;
  afterAll(() => service?.close());

  it("runs the passes it is asked for, stores the plain map and the passes' score", async () => {
    const dir = tempDir('uncertainty-passes');
    await createDemoProject(dir, { count: 12, seed: 3, size: 32 });
    service = createService({ transport: 'http', backend: 'onnxruntime', projectDir: dir });
    const train = await service.invoke('train.start', {
      ...{ epochs: 2, size: 32, base: 4, batch: 4, seed: 1, promote: 'always' as const },
    });
    await service.jobs.wait(train.id);
    const version = (await service.invoke('models.list')).find((model) => model.active)!.version;
    const db = service.project().db;
    const predictWith = async (passes: number) => {
      const job = await service!.invoke('predict.start', { passes });
      await service!.jobs.wait(job.id);
      const result = service!.jobs.get(job.id).result as { saved: number; inferences: number };
      const images = await service!.invoke('images.list', { limit: 100 });
      const figures = [];
      for (const item of images.items) {
        const revision = latestPrediction(db, item.id, version)!;
        figures.push({
          pixels: await revisionPixels(db, revision.id),
          uncertainty: predictionStats(db, item.id, version)!.uncertainty,
        });
      }
      return { result, figures };
    };
    const one = await predictWith(1);
    const four = await predictWith(4);
    // Progress and result count every model run: 4 per image.
    expect(one.result.inferences).toBe(one.result.saved);
    expect(four.result.inferences).toBe(4 * four.result.saved);
    expect(four.result.saved).toBe(12);
    for (const [index, plain] of one.figures.entries()) {
      // The stored map is the plain prediction whatever the passes.
      expect(four.figures[index].pixels).toEqual(plain.pixels);
      // One pass: the single map's score, as before the passes.
      expect(plain.uncertainty).toBeCloseTo(predictionUncertainty(plain.pixels), 12);
      expect(four.figures[index].uncertainty).toBeGreaterThanOrEqual(0);
      expect(four.figures[index].uncertainty).toBeLessThanOrEqual(1);
    }
    // Four passes: the score of the passes, which differs from the single map's somewhere.
    expect(
      four.figures.some(
        (figure, index) => Math.abs(figure.uncertainty - one.figures[index].uncertainty) > 1e-9,
      ),
    ).toBe(true);
  }, 600_000);
});
