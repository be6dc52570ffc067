/**
 * The calibrated uncertainty score's pure parts (src/core/math/uncertainty-features.ts and
 * uncertainty-calibration.ts): the label-free features of a prediction's passes, the isotonic fit,
 * the two-part calibration and how it is applied, the fallback for versions without one, and the
 * speck that must not top the queue.
 */
import { describe, expect, it } from 'vitest';
import {
  calibratedUncertainty,
  fitUncertaintyCalibration,
  isotonicFit,
  passesScore,
  type CalibrationSample,
} from '../../src/core/math/uncertainty-calibration';
import { predictionFeatures } from '../../src/core/math/uncertainty-features';
import { passesUncertainty, spearman } from '../../src/core/math/uncertainty';
import { uncertaintyCalibrationSchema } from '../../src/shared/uncertainty-schemas';

const SIZE = 64;

/** A map of `background` with a square of side `side` at (x0, y0) at probability `p` (8-bit). */
function map(background: number, side: number, p: number, x0 = 10, y0 = 10): Uint8Array {
  const out = new Uint8Array(SIZE * SIZE).fill(background);
  for (let y = y0; y < y0 + side; y++) for (let x = x0; x < x0 + side; x++) out[y * SIZE + x] = p;
  return out;
}

describe('predictionFeatures', () => {
  it('measures what is drawn, how high the map rises and how the passes agree', () => {
    const plain = map(13, 8, 230);
    const shifted = map(13, 8, 230, 12, 10);
    const features = predictionFeatures([plain, shifted]);
    expect(features.drawn).toBeCloseTo(64 / (SIZE * SIZE));
    // The union of two 8x8 squares two pixels apart: 8 x 10.
    expect(features.anyDrawn).toBeCloseTo(80 / (SIZE * SIZE));
    expect(features.empty).toBe(0);
    expect(features.maxP).toBeCloseTo(230 / 255);
    expect(features.background).toBeCloseTo(13 / 255);
    expect(features.rise).toBeCloseTo((230 - 13) / (255 - 13));
    expect(features.drawnMean).toBeCloseTo(230 / 255);
    // Overlap 8 x 6 of two 64-pixel masks.
    expect(features.passDice).toBeCloseTo((2 * 48) / 128);
    expect(features.score).toBe(passesUncertainty([plain, shifted]));

    const nothing = predictionFeatures([map(13, 8, 100), map(13, 8, 100)]);
    expect(nothing.empty).toBe(1);
    expect(nothing.drawn).toBe(0);
    expect(nothing.passDice).toBe(1);
    expect(nothing.disagreement).toBe(0);
    expect(() => predictionFeatures([])).toThrow(/at least one/);
  });
});

describe('isotonicFit', () => {
  it('pools the points that break the order and keeps the ones that do not', () => {
    const xs = [3, 1, 4, 2, 5];
    const ys = [0.2, 0.1, 0.9, 0.6, 0.7];
    const up = isotonicFit(xs, ys, true);
    expect(up.x).toEqual([1, 2, 3, 4, 5]);
    for (let i = 1; i < up.y.length; i++) expect(up.y[i]).toBeGreaterThanOrEqual(up.y[i - 1]);
    // The fit keeps the mean of the data (pooling replaces points by their mean).
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    expect(mean(up.y)).toBeCloseTo(mean(ys));
    // Already ordered data is its own fit.
    expect(isotonicFit([1, 2, 3], [0.1, 0.2, 0.3], true).y).toEqual([0.1, 0.2, 0.3]);
    const down = isotonicFit(xs, ys, false);
    for (let i = 1; i < down.y.length; i++) expect(down.y[i]).toBeLessThanOrEqual(down.y[i - 1]);
    // Equal xs share one fitted value.
    const tied = isotonicFit([1, 1, 2], [0, 1, 0.2], true);
    expect(tied.y[0]).toBe(tied.y[1]);
  });
});

/**
 * Labelled samples of a model whose drawn predictions' error grows with their doubt (a blob of
 * probability p: the lower p, the worse) and whose empty predictions miss a lesion when the map
 * rises towards one (the faint blob), as measured by the passes' maps themselves.
 */
function samples(): CalibrationSample[] {
  const out: CalibrationSample[] = [];
  for (let k = 0; k < 12; k++) {
    const p = 140 + k * 9; // 140 .. 239
    const maps = [map(10, 12, p), map(10, 12, Math.max(128, p - 20), 11, 10)];
    out.push({ features: predictionFeatures(maps), error: (240 - p) / 120 });
  }
  for (let k = 0; k < 8; k++) {
    const missed = k % 2 === 0;
    const faint = missed ? 100 + k : 12;
    out.push({
      features: predictionFeatures([map(10, 12, faint), map(10, 12, faint)]),
      error: missed ? 1 : 0,
    });
  }
  return out;
}

describe('fitUncertaintyCalibration', () => {
  it('fits each part on its own images, stores a valid calibration and ranks by the error', () => {
    const data = samples();
    const calibration = fitUncertaintyCalibration(data, 2);
    expect(uncertaintyCalibrationSchema.parse(calibration)).toEqual(calibration);
    expect(calibration.images).toBe(data.length);
    expect(calibration.passes).toBe(2);
    expect(calibration.empty.images).toBe(8);
    expect(calibration.drawn.images).toBe(12);
    expect(calibration.emptyMissRate).toBe(0.5);
    const scores = data.map((sample) => calibratedUncertainty(sample.features, calibration));
    for (const score of scores) {
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(1);
    }
    const errors = data.map((sample) => sample.error);
    expect(spearman(scores, errors)).toBeGreaterThan(
      spearman(
        data.map((s) => s.features.score),
        errors,
      ),
    );
    // The misses (a rise) score above every correct empty prediction.
    const empties = data.filter((sample) => sample.features.empty === 1);
    const missScores = empties
      .filter((s) => s.error === 1)
      .map((s) => calibratedUncertainty(s.features, calibration));
    const rightScores = empties
      .filter((s) => s.error === 0)
      .map((s) => calibratedUncertainty(s.features, calibration));
    expect(Math.min(...missScores)).toBeGreaterThan(Math.max(...rightScores));
  });

  it('an empty prediction with nothing to tell misses from right ones scores the miss rate', () => {
    const flat = predictionFeatures([map(10, 0, 0), map(10, 0, 0)]);
    const data: CalibrationSample[] = [
      { features: flat, error: 1 },
      { features: flat, error: 0 },
      { features: flat, error: 0 },
      { features: flat, error: 0 },
      { features: predictionFeatures([map(10, 12, 200), map(10, 12, 200)]), error: 0.3 },
    ];
    const calibration = fitUncertaintyCalibration(data, 2);
    expect(calibration.emptyMissRate).toBe(0.25);
    expect(calibratedUncertainty(flat, calibration)).toBeCloseTo(0.25, 2);
    // No empty prediction to fit on: the mean error of all.
    const none = fitUncertaintyCalibration(data.slice(4), 2);
    expect(none.emptyMissRate).toBeNull();
    expect(calibratedUncertainty(flat, none)).toBeCloseTo(0.3, 2);
    expect(() => fitUncertaintyCalibration([], 2)).toThrow(/labelled images/);
  });

  it('a one-pixel speck at p = 0.5 does not top the queue: the drawn part weighs the area at stake', () => {
    const calibration = fitUncertaintyCalibration(samples(), 2);
    const speck = map(10, 1, 128);
    const speckScore = calibratedUncertainty(predictionFeatures([speck, speck]), calibration);
    const doubtfulBlob = [map(10, 12, 150), map(10, 12, 140, 11, 10)];
    const blobScore = calibratedUncertainty(predictionFeatures(doubtfulBlob), calibration);
    expect(speckScore).toBeLessThan(blobScore);
  });
});

describe('passesScore', () => {
  it('uses the calibration fitted for as many passes, and passesUncertainty otherwise', () => {
    const calibration = fitUncertaintyCalibration(samples(), 2);
    const two = [map(10, 12, 170), map(10, 12, 160, 11, 10)];
    expect(passesScore(two, calibration)).toBe(
      calibratedUncertainty(predictionFeatures(two), calibration),
    );
    expect(passesScore(two, null)).toBe(passesUncertainty(two));
    expect(passesScore(two, undefined)).toBe(passesUncertainty(two));
    const three = [...two, two[0]];
    expect(passesScore(three, calibration)).toBe(passesUncertainty(three));
  });
});
