/**
 * The test-time passes behind the uncertainty score (src/core/ml/tta.ts): each transform is undone
 * onto the image's pixels, and the score of several passes (src/core/math/uncertainty.ts
 * passesUncertainty) weighs their doubt by the lesion at stake, so a speck does not top the queue.
 */
import { describe, expect, it } from 'vitest';
import {
  applyTransform,
  MAX_TEST_PASSES,
  testTransforms,
  undoTransform,
} from '../../src/core/ml/tta';

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
