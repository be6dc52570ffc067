/**
 * Paints layers into offscreen canvases at image resolution, one rectangle at a time: a brush
 * stroke re-paints only its dirty rectangle and the Konva stage blits the canvas (no node per dab).
 */
import type { DirtyRect } from '../mask/label-map';
import { DIFF_COLOURS, DIFF_FN, DIFF_FP, DIFF_TP } from '../mask/diff';

export type Rgb = readonly [number, number, number];

export const LAYER_COLOURS = {
  'ground-truth': [250, 204, 21] as Rgb,
  prediction: [217, 70, 239] as Rgb,
  label: [34, 211, 238] as Rgb,
};

export function makeCanvas(width: number, height: number): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

function grow(rect: DirtyRect, by: number, width: number, height: number): DirtyRect {
  return {
    x0: Math.max(0, rect.x0 - by),
    y0: Math.max(0, rect.y0 - by),
    x1: Math.min(width, rect.x1 + by),
    y1: Math.min(height, rect.y1 + by),
  };
}

/** Foreground pixel with a 4-neighbour in the background (or on the image border). */
function isEdge(values: Uint8Array, width: number, height: number, x: number, y: number): boolean {
  const i = y * width + x;
  return (
    x === 0 ||
    y === 0 ||
    x === width - 1 ||
    y === height - 1 ||
    values[i - 1] === 0 ||
    values[i + 1] === 0 ||
    values[i - width] === 0 ||
    values[i + width] === 0
  );
}

/** Paints a binary layer (fill or outline) in one colour, transparent elsewhere. */
export function paintMask(
  canvas: HTMLCanvasElement,
  values: Uint8Array | null,
  rect: DirtyRect,
  colour: Rgb,
  outline: boolean,
): void {
  const { width, height } = canvas;
  const context = canvas.getContext('2d')!;
  const r = outline ? grow(rect, 1, width, height) : rect;
  const w = r.x1 - r.x0;
  const h = r.y1 - r.y0;
  if (w <= 0 || h <= 0) return;
  if (!values) {
    context.clearRect(r.x0, r.y0, w, h);
    return;
  }
  const image = context.createImageData(w, h);
  const rgba = image.data;
  const [cr, cg, cb] = colour;
  let j = 0;
  for (let y = r.y0; y < r.y1; y++) {
    let i = y * width + r.x0;
    for (let x = r.x0; x < r.x1; x++, i++, j += 4) {
      if (values[i] !== 0 && (!outline || isEdge(values, width, height, x, y))) {
        rgba[j] = cr;
        rgba[j + 1] = cg;
        rgba[j + 2] = cb;
        rgba[j + 3] = 255;
      }
    }
  }
  context.putImageData(image, r.x0, r.y0);
}

/**
 * Paints the diff of `candidate` against `reference` (TP / FP / FN colours) inside `rect`; null
 * layers clear the canvas (diff mode off, or a layer missing).
 */
export function paintDiff(
  canvas: HTMLCanvasElement,
  candidate: Uint8Array | null,
  reference: Uint8Array | null,
  rect: DirtyRect,
): void {
  const { width } = canvas;
  const context = canvas.getContext('2d')!;
  const w = rect.x1 - rect.x0;
  const h = rect.y1 - rect.y0;
  if (w <= 0 || h <= 0) return;
  if (!candidate || !reference) {
    context.clearRect(rect.x0, rect.y0, w, h);
    return;
  }
  const image = context.createImageData(w, h);
  const rgba = image.data;
  let j = 0;
  for (let y = rect.y0; y < rect.y1; y++) {
    let i = y * width + rect.x0;
    for (let x = rect.x0; x < rect.x1; x++, i++, j += 4) {
      const c = candidate[i] !== 0;
      const r = reference[i] !== 0;
      const colour = DIFF_COLOURS[c && r ? DIFF_TP : c ? DIFF_FP : r ? DIFF_FN : 0];
      if (colour) {
        rgba[j] = colour[0];
        rgba[j + 1] = colour[1];
        rgba[j + 2] = colour[2];
        rgba[j + 3] = 255;
      }
    }
  }
  context.putImageData(image, rect.x0, rect.y0);
}
