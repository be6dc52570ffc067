/**
 * Paints layers into offscreen canvases at image resolution, one rectangle at a time: a brush
 * stroke re-paints only its dirty rectangle and the Konva stage blits the canvas (no node per dab).
 */
import type { DirtyRect } from '../mask/label-map';
import { DIFF_COLOURS } from '../mask/diff';

export type Rgb = readonly [number, number, number];

export const LAYER_COLOURS = {
  'ground-truth': [250, 204, 21] as Rgb,
  prediction: [217, 70, 239] as Rgb,
  correction: [34, 211, 238] as Rgb,
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

/** Paints diff classes (TP / FP / FN) in their colours. */
export function paintDiff(canvas: HTMLCanvasElement, classes: Uint8Array | null): void {
  const { width, height } = canvas;
  const context = canvas.getContext('2d')!;
  if (!classes) {
    context.clearRect(0, 0, width, height);
    return;
  }
  const image = context.createImageData(width, height);
  const rgba = image.data;
  for (let i = 0, j = 0; i < classes.length; i++, j += 4) {
    const colour = DIFF_COLOURS[classes[i]];
    if (colour) {
      rgba[j] = colour[0];
      rgba[j + 1] = colour[1];
      rgba[j + 2] = colour[2];
      rgba[j + 3] = 255;
    }
  }
  context.putImageData(image, 0, 0);
}
