/**
 * Several predictions of one image, for the uncertainty score: test-time augmentation (the image
 * flipped and shifted, each prediction moved back) and Monte Carlo dropout (../onnx/runtime.ts
 * onnxDropoutRunner). The first pass is always the plain prediction, so the stored mask does not
 * change with the number of passes.
 */
import type { ModelRunner } from './runner';

/** A test-time transform of a size x size image: a left-right flip, then a shift in pixels. */
export interface TestTransform {
  flip: boolean;
  dx: number;
  dy: number;
}

/** The shift of the shifted passes, as a fraction of the input size (training shifts up to 6%). */
const SHIFT_FRACTION = 0.04;

/**
 * The first `passes` transforms of a fixed list: the plain image, its mirror, then shifts along
 * the diagonals with and without the mirror. Chest X-rays are nearly symmetric left to right and
 * training shifts them, so each transform shows the model an image like those it learnt from.
 */
export function testTransforms(passes: number, size: number): TestTransform[] {
  const d = Math.max(1, Math.round(SHIFT_FRACTION * size));
  const list: TestTransform[] = [
    { flip: false, dx: 0, dy: 0 },
    { flip: true, dx: 0, dy: 0 },
    { flip: false, dx: d, dy: d },
    { flip: true, dx: -d, dy: -d },
    { flip: false, dx: -d, dy: d },
    { flip: true, dx: d, dy: -d },
    { flip: false, dx: d, dy: -d },
    { flip: true, dx: -d, dy: d },
  ];
  if (!(Number.isInteger(passes) && passes >= 1 && passes <= list.length))
    throw new Error(`test-time passes must be 1 to ${list.length}, got ${passes}`);
  return list.slice(0, passes);
}

/** The most test-time passes there are transforms for. */
export const MAX_TEST_PASSES = 8;

/**
 * Passes per image of a prediction job unless it asks otherwise: chosen in bench/uncertainty.ts
 * (README); a prediction costs this many model runs.
 */
export const DEFAULT_UNCERTAINTY_PASSES = 4;

/** Reads `source` at (x, y), clamped to the edge (replicated border). */
function at(source: Float32Array, size: number, x: number, y: number): number {
  const cx = x < 0 ? 0 : x >= size ? size - 1 : x;
  const cy = y < 0 ? 0 : y >= size ? size - 1 : y;
  return source[cy * size + cx];
}

/** The image as the transform shows it: out(x, y) = in(flip(x - dx), y - dy). */
export function applyTransform(image: Float32Array, size: number, t: TestTransform): Float32Array {
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const sx = x - t.dx;
      out[y * size + x] = at(image, size, t.flip ? size - 1 - sx : sx, y - t.dy);
    }
  return out;
}

/** A map predicted on the transformed image, moved back onto the original's pixels. */
export function undoTransform(map: Float32Array, size: number, t: TestTransform): Float32Array {
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const sx = t.flip ? size - 1 - x : x;
      out[y * size + x] = at(map, size, sx + t.dx, y + t.dy);
    }
  return out;
}

/**
 * The image's probability maps under the first `passes` test-time transforms, each moved back
 * onto the image (pass 0 is the plain prediction). One runner call: the passes share batches.
 */
export async function predictTransformed(
  runner: ModelRunner,
  image: Float32Array,
  size: number,
  passes: number,
): Promise<Float32Array[]> {
  const transforms = testTransforms(passes, size);
  const maps = await runner.predict(transforms.map((t) => applyTransform(image, size, t)));
  return maps.map((map, index) => undoTransform(map, size, transforms[index]));
}

/**
 * Monte Carlo dropout passes of one image: pass 0 from the plain runner, the others from a
 * dropout runner (a fresh mask each).
 */
export async function predictWithDropout(
  runner: ModelRunner,
  dropoutRunner: ModelRunner,
  image: Float32Array,
  passes: number,
): Promise<Float32Array[]> {
  const [plain] = await runner.predict([image]);
  if (passes <= 1) return [plain];
  const others = await dropoutRunner.predict(Array.from({ length: passes - 1 }, () => image));
  return [plain, ...others];
}
