/**
 * Active learning orders on a real project: probability maps stored as PNG prediction revisions
 * (savePrediction), change rows computed by decoding them back, and the worklist query sorting
 * unreviewed images by uncertainty (doubt over the lesion drawn or nearly drawn) and by
 * disagreement between versions.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  changeReference,
  predictionChange,
  recordPredictionChanges,
} from '../../src/core/ml/active-learning';
import {
  lesionEntropyUncertainty,
  meanBinaryEntropy,
  predictionUncertainty,
  spearman,
} from '../../src/core/math/uncertainty';
import { listImages, setReview } from '../../src/core/project/images';
import { latestPrediction, revisionPixels, savePrediction } from '../../src/core/project/masks';
import type { ProjectStore } from '../../src/core/project/store';
import { projectWithImages, rectMask } from './project-fixtures';

const W = 32;
const H = 24;
const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function project(count: number) {
  const fixture = await projectWithImages(
    Array.from({ length: count }, (_, i) => ({
      name: `img${i}.png`,
      split: 'train' as const,
      gt: rectMask(W, H, 0, 0, 8, 8),
    })),
    W,
    H,
  );
  cleanups.push(() => {
    fixture.store.close();
    fs.rmSync(fixture.dir, { recursive: true, force: true });
    fs.rmSync(fixture.root, { recursive: true, force: true });
  });
  return fixture;
}

/** A confident map (0 / 255) where the first `undecided` pixels are replaced by `value`. */
function mapWithUndecided(undecided: number, value = 128): Uint8Array {
  const p = rectMask(W, H, 0, 0, 8, 8);
  for (let i = 0; i < undecided; i++) p[i] = value;
  return p;
}

/** Binary probability map of a w x h rectangle at the origin (x0 shifts it right). */
function rectMap(x0: number, w: number, h: number): Uint8Array {
  return rectMask(W, H, x0, 0, x0 + w, h);
}

/** Makes `version` active with `previous` as the one before it (what promote() records). */
function setActive(store: ProjectStore, version: string, previous: string[]) {
  store.setMeta('active_model', version);
  store.setMeta('active_model_history', JSON.stringify(previous));
}

describe('measures', () => {
  it('mean binary entropy is 0 for a sure map, ~1 bit at p = 0.5 and grows with doubt', () => {
    expect(meanBinaryEntropy(new Uint8Array([0, 255, 0, 255]))).toBe(0);
    expect(meanBinaryEntropy(new Uint8Array(100).fill(128))).toBeGreaterThan(0.9999);
    const h = (p: number) => -(p * Math.log2(p) + (1 - p) * Math.log2(1 - p));
    expect(meanBinaryEntropy(new Uint8Array([51, 0]))).toBeCloseTo(h(51 / 255) / 2, 10);
    const orders = [10, 40, 80, 128].map((v) => meanBinaryEntropy(new Uint8Array([v, v])));
    expect([...orders].sort((a, b) => a - b)).toEqual(orders);
    expect(meanBinaryEntropy(new Uint8Array([60]))).toBeCloseTo(
      meanBinaryEntropy(new Uint8Array([195])),
      10,
    );
  });

  it('the uncertainty score is the doubt over what the model drew or nearly drew, weighed by its area', () => {
    const h = (p: number) => -(p * Math.log2(p) + (1 - p) * Math.log2(1 - p));
    /** A 1000-pixel map at `background` with `pixels` set to `value` each. */
    const map = (background: number, ...spots: [value: number, count: number][]) => {
      const p = new Uint8Array(1000).fill(background);
      let at = 0;
      for (const [value, count] of spots) p.fill(value, at, (at += count));
      return p;
    };
    // Nothing above the image's background: 0, however undecided the background is.
    expect(predictionUncertainty(map(77))).toBe(0);
    expect(predictionUncertainty(new Uint8Array(0))).toBe(0);
    // A lesion drawn with certainty: 0.
    expect(predictionUncertainty(map(0, [255, 50]))).toBe(0);
    // A missed lesion the model nearly drew (20 pixels at p = 0.47 over a background of 0.05):
    // the score this replaced gave 0, ranking it last; now it is the blob's doubt.
    const missed = map(13, [120, 20]);
    expect(lesionEntropyUncertainty(missed)).toBe(0);
    expect(predictionUncertainty(missed)).toBeCloseTo(h(120 / 255), 12);
    // The same values over a background of p = 0.39 are not "nearly predicted": weak models raise
    // their whole background, and the blob must stand out from the image's own.
    expect(predictionUncertainty(map(100, [120, 20]))).toBe(0);
    // The mean over the pixels at stake only: the background's doubt does not dilute it.
    const lesion = map(20, [230, 10], [160, 10]);
    expect(predictionUncertainty(lesion)).toBeCloseTo((h(230 / 255) + h(160 / 255)) / 2, 12);
    // A one-pixel speck at p = 0.5 scored 1 bit and topped the queue; it now scores by its size
    // (1 pixel of the 5 that count in full) and ranks below a drawn, half-sure lesion.
    const speck = map(5, [128, 1]);
    expect(lesionEntropyUncertainty(speck)).toBeGreaterThan(0.9999);
    expect(predictionUncertainty(speck)).toBeCloseTo(h(128 / 255) / 5, 12);
    expect(predictionUncertainty(speck)).toBeLessThan(predictionUncertainty(map(5, [200, 40])));
    // A blurred outline relative to the lesion's size scores higher than a sharp one.
    const sharp = map(0, [250, 96], [140, 4]);
    const blurred = map(0, [250, 60], [140, 40]);
    expect(predictionUncertainty(blurred)).toBeGreaterThan(predictionUncertainty(sharp));
  });

  it("spearman's rank correlation, with ties at their mean rank", () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [9, 7, 5, -1])).toBeCloseTo(-1, 12);
    expect(spearman([1, 2, 3], [5, 5, 5])).toBe(0);
    // scipy.stats.spearmanr([1, 2, 2, 3, 5], [2, 1, 4, 4, 3]).statistic
    expect(spearman([1, 2, 2, 3, 5], [2, 1, 4, 4, 3])).toBeCloseTo(0.3947368421052632, 12);
    expect(() => spearman([1], [1, 2])).toThrow(/spearman/);
  });

  it('prediction change: mean |dp| and 1 - Dice of the thresholded masks', () => {
    const a = rectMap(0, 8, 8);
    expect(predictionChange(a, a)).toEqual({ changed: 0, disagreement: 0 });
    const empty = new Uint8Array(W * H);
    expect(predictionChange(empty, empty)).toEqual({ changed: 0, disagreement: 0 });
    const disjoint = predictionChange(a, rectMap(16, 8, 8));
    expect(disjoint.disagreement).toBe(1);
    expect(disjoint.changed).toBeCloseTo((2 * 64) / (W * H), 10);
    // Half overlap: |A| = |B| = 64, |A n B| = 32 -> Dice 0.5.
    expect(predictionChange(a, rectMap(4, 8, 8)).disagreement).toBeCloseTo(0.5, 10);
    // A soft change below the threshold moves `changed` but not the masks.
    const soft = a.map((v) => (v === 255 ? 200 : 0));
    expect(predictionChange(a, soft)).toEqual({
      changed: (64 * 55) / (255 * W * H),
      disagreement: 0,
    });
    expect(() => predictionChange(a, new Uint8Array(3))).toThrow(/size/);
  });
});

describe('worklist orders', () => {
  it('orders unreviewed images by the uncertainty stored with each PNG prediction', async () => {
    const { store, ids } = await project(5);
    // Image k has 40 * k undecided pixels; image 4 is the most uncertain but already reviewed.
    const shuffled = [2, 0, 4, 1, 3];
    for (const k of shuffled)
      await savePrediction(store.db, ids[k], 'v1', mapWithUndecided(40 * k));
    setReview(store.db, ids[4], { state: 'accepted' });

    const queue = listImages(
      store.db,
      { sort: 'uncertainty', direction: 'desc', filter: { state: 'unreviewed' } },
      'v1',
    ).items;
    expect(queue.map((item) => item.id)).toEqual([ids[3], ids[2], ids[1], ids[0]]);
    // The stored figure is the score of the decoded PNG, not of the array we passed in.
    for (const item of queue) {
      const revision = latestPrediction(store.db, item.id, 'v1');
      const pixels = await revisionPixels(store.db, revision!.id);
      expect(item.uncertainty).toBeCloseTo(predictionUncertainty(pixels), 12);
    }
    expect(queue[3].uncertainty).toBe(0);
  });

  it('orders by disagreement and change between the previous and the active version', async () => {
    const { store, ids } = await project(5);
    // v1 predicts the same 8x8 square everywhere; v2 shifts it by k pixels on image k, except
    // image 4 which v2 has not predicted (no change row: sorts last).
    for (const id of ids) await savePrediction(store.db, id, 'v1', rectMap(0, 8, 8));
    const order = [3, 1, 0, 2];
    for (const k of order) await savePrediction(store.db, ids[k], 'v2', rectMap(2 * k, 8, 8));
    setActive(store, 'v2', ['v1']);
    expect(changeReference(store, 'v2')).toBe('v1');
    expect(changeReference(store, 'v1')).toBe('v2');

    const recorded = await recordPredictionChanges(store, 'v2');
    expect(recorded).toEqual({ reference: 'v1', images: 4 });

    const byDisagreement = listImages(
      store.db,
      { sort: 'disagreement', direction: 'desc', filter: { state: 'unreviewed' } },
      'v2',
    ).items;
    expect(byDisagreement.map((item) => item.id)).toEqual([ids[3], ids[2], ids[1], ids[0], ids[4]]);
    expect(byDisagreement[3].disagreement).toBe(0);
    expect(byDisagreement[4].disagreement).toBeNull();
    // Shift by 2k of an 8-wide square: overlap 8 - 2k columns -> Dice (8 - 2k) / 8.
    expect(byDisagreement[0].disagreement).toBeCloseTo(1 - 2 / 8, 10);

    const byChange = listImages(store.db, { sort: 'changed', direction: 'desc' }, 'v2').items;
    expect(byChange.slice(0, 4).map((item) => item.id)).toEqual([ids[3], ids[2], ids[1], ids[0]]);
    expect(byChange[0].changed).toBeCloseTo((2 * 6 * 8) / (W * H), 10);

    // A reviewed image leaves the queue; a later recompute for one image touches only that row.
    setReview(store.db, ids[3], { state: 'corrected' });
    const queue = listImages(
      store.db,
      { sort: 'disagreement', direction: 'desc', filter: { state: 'unreviewed' } },
      'v2',
    ).items;
    expect(queue[0].id).toBe(ids[2]);
    await savePrediction(store.db, ids[0], 'v2', rectMap(16, 8, 8));
    expect(await recordPredictionChanges(store, 'v2', [ids[0]])).toEqual({
      reference: 'v1',
      images: 1,
    });
    const again = listImages(
      store.db,
      { sort: 'disagreement', direction: 'desc', filter: { state: 'unreviewed' } },
      'v2',
    ).items;
    expect(again[0].id).toBe(ids[0]);
    expect(again[0].disagreement).toBe(1);
  });
});
