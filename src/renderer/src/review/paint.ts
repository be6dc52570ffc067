/**
 * Painting one open image (its `Bundle`) into the offscreen canvases the viewer blits, and its
 * live figures: pure functions of the bundle and the review store's display settings.
 */
import type { MaskLayer } from '../../../shared/contract-review';
import { diffMetrics, layerFigures } from '../mask/diff';
import { fullRect, type DirtyRect } from '../mask/label-map';
import { applyLut, buildLut, defaultWindow } from '../viewer/window-level';
import { LAYER_COLOURS, paintDiff, paintMask } from './overlay';
import { useReviewStore, type Figures } from './review-store';
import type { Bundle } from './save-queue';

/** The 0/1 values a layer shows (the prediction at the current threshold). */
export function layerValuesOf(b: Bundle, layer: MaskLayer): Uint8Array | null {
  if (layer === 'ground-truth') return b.groundTruth;
  if (layer === 'prediction') return b.predictionBinary;
  return b.label.data;
}

/** The windowed grey image into its canvas. */
export function paintImage(canvas: HTMLCanvasElement, b: Bundle): void {
  const { window, maxValue } = useReviewStore.getState();
  const context = canvas.getContext('2d')!;
  const pixels = context.createImageData(canvas.width, canvas.height);
  applyLut(b.image.data, buildLut(window ?? defaultWindow(maxValue), maxValue), pixels.data);
  context.putImageData(pixels, 0, 0);
}

export function paintLayer(
  canvas: HTMLCanvasElement,
  b: Bundle,
  layer: MaskLayer,
  rect?: DirtyRect,
): void {
  paintMask(
    canvas,
    layerValuesOf(b, layer),
    rect ?? fullRect(b.label),
    LAYER_COLOURS[layer],
    useReviewStore.getState().layers[layer].outline,
  );
}

/** TP / FP / FN of the chosen pair of layers, or nothing while diff mode is off. */
export function paintDiffOf(canvas: HTMLCanvasElement, b: Bundle, rect?: DirtyRect): void {
  const { diff } = useReviewStore.getState();
  const on = diff.enabled;
  paintDiff(
    canvas,
    on ? layerValuesOf(b, diff.candidate) : null,
    on ? layerValuesOf(b, diff.reference) : null,
    rect ?? fullRect(b.label),
  );
}

/** Each layer's figures and the chosen pair's agreement. */
export function figuresOf(b: Bundle): Figures {
  const { diff } = useReviewStore.getState();
  const { width, height } = b.label;
  const figures: Figures = { pair: null, layers: {} };
  for (const layer of ['ground-truth', 'prediction', 'label'] as const) {
    const values = layerValuesOf(b, layer);
    if (values) figures.layers[layer] = layerFigures(values, width, height);
  }
  const candidate = layerValuesOf(b, diff.candidate);
  const reference = layerValuesOf(b, diff.reference);
  if (candidate && reference) {
    const m = diffMetrics(candidate, reference);
    figures.pair = {
      candidate: diff.candidate,
      reference: diff.reference,
      tp: m.tp,
      fp: m.fp,
      fn: m.fn,
      tn: m.tn,
      dice: m.dice,
      iou: m.iou,
    };
  }
  return figures;
}
