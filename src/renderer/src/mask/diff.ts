/**
 * Diff between two binary layers (ground truth, thresholded prediction, label in force) and the
 * live per-image figures. Counting goes through src/shared/metrics.ts, the one metrics
 * implementation, so the viewer's TP/FP/FN equal the server's `images.metrics` (same layer names).
 */
import { confusion, metricsFromConfusion, type MaskMetrics } from '../../../shared/metrics';
import { areaPercent, connectedComponents } from './label-map';

/** Diff classes per pixel. */
export const DIFF_NONE = 0;
export const DIFF_TP = 1;
export const DIFF_FP = 2;
export const DIFF_FN = 3;

/** Colours (RGBA) of the diff overlay: TP green, FP red, FN blue. */
export const DIFF_COLOURS: Record<number, readonly [number, number, number]> = {
  [DIFF_TP]: [34, 197, 94],
  [DIFF_FP]: [239, 68, 68],
  [DIFF_FN]: [59, 130, 246],
};

/**
 * Compares `candidate` (the layer judged, e.g. prediction) against `reference` (e.g. ground
 * truth). Both binary (non-zero = foreground).
 */
export function diffMetrics(candidate: Uint8Array, reference: Uint8Array): MaskMetrics {
  return metricsFromConfusion(confusion(candidate, reference));
}

/** Per-pixel diff classes for the overlay. */
export function diffClasses(candidate: Uint8Array, reference: Uint8Array): Uint8Array {
  if (candidate.length !== reference.length) throw new Error('diff layers differ in size');
  const out = new Uint8Array(candidate.length);
  for (let i = 0; i < candidate.length; i++) {
    const c = candidate[i] > 0;
    const r = reference[i] > 0;
    out[i] = c && r ? DIFF_TP : c ? DIFF_FP : r ? DIFF_FN : DIFF_NONE;
  }
  return out;
}

export interface LayerFigures {
  areaPercent: number;
  components: number;
}

export function layerFigures(data: Uint8Array, width: number, height: number): LayerFigures {
  return {
    areaPercent: areaPercent(data),
    components: connectedComponents(data, width, height).count,
  };
}
