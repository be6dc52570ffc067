/**
 * What every keymap action does. Buttons and keys both call `runAction`, so a shortcut and its
 * button never drift apart.
 */
import type { ReviewState } from '../../../shared/contract-review';
import type { ActionId } from '../keymap';
import {
  acceptPrediction,
  clearLabel,
  dilate,
  erode,
  fillHoles,
  removeIslands,
  thresholdInto,
  EMPTY_RECT,
} from '../mask/label-map';
import { defaultWindow } from '../viewer/window-level';
import { review } from './controller';
import { findIndex, useReviewStore, type Tool } from './review-store';
import { actualSizeView, fitView, zoomView } from './Viewer';

export async function selectIndex(index: number): Promise<void> {
  const store = useReviewStore.getState();
  let item = store.itemAt(index);
  if (!item) {
    const items = await store.loadPage(Math.floor(index / 200));
    item = items[index % 200];
  }
  if (!item) return;
  useReviewStore.getState().set({ selectedIndex: index });
  await review.select(item.id);
}

async function step(direction: 1 | -1, unreviewedOnly: boolean): Promise<void> {
  const { selectedIndex } = useReviewStore.getState();
  const from = selectedIndex ?? (direction === 1 ? -1 : 0);
  const index = await findIndex(
    from,
    direction,
    unreviewedOnly ? (item) => item.reviewState === 'unreviewed' : () => true,
  );
  if (index !== null) await selectIndex(index);
}

const TOOLS: Partial<Record<ActionId, Tool>> = {
  'tool.brush': 'brush',
  'tool.eraser': 'eraser',
  'tool.polygonAdd': 'polygonAdd',
  'tool.polygonCut': 'polygonCut',
  'tool.fill': 'fill',
  'tool.keepComponent': 'keepComponent',
  'tool.dropComponent': 'dropComponent',
  'tool.pan': 'pan',
};

const STATES: Partial<Record<ActionId, ReviewState>> = {
  'review.unreviewed': 'unreviewed',
  'review.accepted': 'accepted',
  'review.corrected': 'corrected',
  'review.flagged': 'flagged',
  'review.negative': 'negative',
};

export function runAction(action: ActionId): void {
  const store = useReviewStore.getState();
  const tool = TOOLS[action];
  if (tool) {
    store.set({ tool });
    return;
  }
  const state = STATES[action];
  if (state) {
    void review.setReview({ state });
    return;
  }
  const threshold = store.threshold;
  switch (action) {
    case 'help':
      store.set({ helpOpen: !store.helpOpen });
      break;
    case 'brush.smaller':
      store.set({ brushRadius: Math.max(1, Math.round(store.brushRadius / 1.25)) });
      break;
    case 'brush.larger':
      store.set({ brushRadius: Math.min(200, Math.ceil(store.brushRadius * 1.25)) });
      break;
    case 'polygon.close':
      window.dispatchEvent(new Event('qataseg:polygon-close'));
      break;
    case 'polygon.cancel':
      window.dispatchEvent(new Event('qataseg:polygon-cancel'));
      if (store.helpOpen) store.set({ helpOpen: false });
      break;
    case 'edit.undo':
      void review.undo(false);
      break;
    case 'edit.redo':
      void review.undo(true);
      break;
    case 'edit.thresholdInto':
      review.apply((label, b) =>
        b.prediction ? thresholdInto(label, b.prediction, threshold) : EMPTY_RECT,
      );
      break;
    case 'edit.acceptPrediction':
      review.apply((label, b) =>
        b.prediction ? acceptPrediction(label, b.prediction, threshold) : EMPTY_RECT,
      );
      break;
    case 'edit.fillHoles':
      review.apply((label) => fillHoles(label));
      break;
    case 'edit.removeIslands':
      review.apply((label) => removeIslands(label, store.islandMinPixels));
      break;
    case 'edit.dilate':
      review.apply((label) => dilate(label));
      break;
    case 'edit.erode':
      review.apply((label) => erode(label));
      break;
    case 'edit.clear':
      review.apply((label) => clearLabel(label));
      break;
    case 'view.fit':
      fitView();
      break;
    case 'view.actualSize':
      actualSizeView();
      break;
    case 'view.zoomIn':
      zoomView(1.25);
      break;
    case 'view.zoomOut':
      zoomView(0.8);
      break;
    case 'view.invert': {
      const window = store.window ?? defaultWindow(store.maxValue);
      store.set({ window: { ...window, invert: !window.invert } });
      review.renderImage();
      review.onDraw?.();
      break;
    }
    case 'view.resetWindow':
      store.set({ window: defaultWindow(store.maxValue) });
      review.renderImage();
      review.onDraw?.();
      break;
    case 'view.diff':
      store.set({ diff: { ...store.diff, enabled: !store.diff.enabled } });
      review.renderDiff();
      review.onDraw?.();
      break;
    case 'view.outline':
      {
        // One key for all mask layers: outline them all unless they all are already.
        const masks = ['ground-truth', 'prediction', 'label'] as const;
        const outline = !masks.every((id) => store.layers[id].outline);
        for (const id of masks) store.setLayer(id, { outline });
        review.renderAll();
      }
      break;
    case 'layer.groundTruth':
      store.setLayer('ground-truth', { visible: !store.layers['ground-truth'].visible });
      break;
    case 'layer.prediction':
      store.setLayer('prediction', { visible: !store.layers.prediction.visible });
      break;
    case 'layer.label':
      store.setLayer('label', { visible: !store.layers.label.visible });
      break;
    case 'nav.next':
      void step(1, false);
      break;
    case 'nav.previous':
      void step(-1, false);
      break;
    case 'nav.nextUnreviewed':
      void step(1, true);
      break;
    case 'nav.previousUnreviewed':
      void step(-1, true);
      break;
    case 'review.comment':
      document.querySelector<HTMLTextAreaElement>('[data-testid="review-comment"]')?.focus();
      break;
    default:
      break;
  }
}
