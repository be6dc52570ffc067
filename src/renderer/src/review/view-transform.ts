/**
 * The viewer's zoom and pan as functions of the review store: fit, actual size, zoom about a
 * point. Shared by the Viewer (wheel, resize) and the editor's actions (keys, menu) without either
 * importing the other.
 */
import type { Point } from '../mask/label-map';
import { review } from './controller';
import { useReviewStore } from './review-store';

/** The stage's size in screen pixels, kept by the Viewer as its element resizes. */
export const stageSize = { width: 800, height: 600 };
const MIN_SCALE = 0.05;
const MAX_SCALE = 64;

function imageSize(): { width: number; height: number } | null {
  const canvas = review.canvases.image;
  return canvas ? { width: canvas.width, height: canvas.height } : null;
}

export function fitView(): void {
  const size = imageSize();
  if (!size) return;
  const scale = Math.min(stageSize.width / size.width, stageSize.height / size.height) * 0.96;
  useReviewStore.getState().set({
    view: {
      scale,
      x: (stageSize.width - size.width * scale) / 2,
      y: (stageSize.height - size.height * scale) / 2,
    },
  });
}

/** Zooms by `factor` keeping the screen point `at` (default: stage centre) fixed. */
export function zoomView(factor: number, at?: Point): void {
  const { view, set } = useReviewStore.getState();
  const anchor = at ?? { x: stageSize.width / 2, y: stageSize.height / 2 };
  const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, view.scale * factor));
  const k = scale / view.scale;
  set({
    view: { scale, x: anchor.x - (anchor.x - view.x) * k, y: anchor.y - (anchor.y - view.y) * k },
  });
}

export function actualSizeView(): void {
  const { view } = useReviewStore.getState();
  zoomView(1 / view.scale);
}
