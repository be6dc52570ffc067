/**
 * COCO run-length encoding of binary masks, the uncompressed form: `{ size: [height, width],
 * counts: number[] }` where counts alternate background/foreground run lengths over the pixels in
 * column-major (Fortran) order, starting with background (a leading 0 when the first pixel is
 * foreground). pycocotools reads it with `mask.frPyObjects(rle, h, w)` then `mask.decode`.
 */

export interface CocoRle {
  size: [number, number];
  counts: number[];
}

/** Encodes a row-major mask (non-zero is foreground). */
export function encodeRle(mask: ArrayLike<number>, width: number, height: number): CocoRle {
  if (mask.length !== width * height) throw new Error('mask size does not match width x height');
  const counts: number[] = [];
  let current = 0; // the value of the run being counted: starts with background
  let run = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0, i = x; y < height; y++, i += width) {
      const value = mask[i] > 0 ? 1 : 0;
      if (value === current) run++;
      else {
        counts.push(run);
        current = value;
        run = 1;
      }
    }
  }
  counts.push(run);
  return { size: [height, width], counts };
}

/** Decodes to a row-major 0/255 mask. */
export function decodeRle(rle: CocoRle): Uint8Array {
  const [height, width] = rle.size;
  const out = new Uint8Array(width * height);
  let position = 0;
  for (let r = 0; r < rle.counts.length; r++) {
    const end = position + rle.counts[r];
    if (end > width * height) throw new Error('RLE counts exceed the mask size');
    if (r % 2 === 1) {
      for (let p = position; p < end; p++) {
        const x = Math.floor(p / height);
        const y = p - x * height;
        out[y * width + x] = 255;
      }
    }
    position = end;
  }
  if (position !== width * height) throw new Error('RLE counts do not cover the mask');
  return out;
}

/** COCO bbox [x, y, w, h] of the foreground, or null when empty. */
export function boundingBox(
  mask: ArrayLike<number>,
  width: number,
  height: number,
): [number, number, number, number] | null {
  let minX = width;
  let minY = height;
  let maxX = -1;
  let maxY = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0, i = y * width; x < width; x++, i++) {
      if (mask[i] === 0) continue;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
  }
  return maxX < 0 ? null : [minX, minY, maxX - minX + 1, maxY - minY + 1];
}
