/**
 * Runs registered editor actions: keys, buttons and pointer presses all come through here, so an
 * action is checked against `enabled` the same way however it was asked for, and a refusal or a
 * failure is said, never silent.
 */
import type { Point } from '../mask/label-map';
import { errorMessage, notify } from '../common/notices';
import { review } from '../review/controller';
import { step } from '../review/actions';
import { useReviewStore } from '../review/review-store';
import { useAppStore } from '../store';
import { actualSizeView, fitView, zoomView } from '../review/view-transform';
import {
  actionById,
  actionOfTool,
  disabledReason,
  type ActionContext,
  type EditorAction,
  type PressResult,
} from './registry';

function context(): ActionContext {
  const store = useReviewStore.getState();
  return {
    state: store,
    set: (patch) => useReviewStore.getState().set(patch),
    setLayer: (id, patch) => useReviewStore.getState().setLayer(id, patch),
    edit: (operation) => review.apply(operation),
    polygon: (points, cut) => review.polygon(points, cut),
    strokeBegin: (point, erase) => review.strokeBegin(point, erase),
    undo: (redo) => review.undo(redo),
    setReview: (patch) => review.setReview(patch),
    reapplyRejectedEdit: () => review.reapplyRejectedEdit(),
    discardRejectedEdit: () => review.discardRejectedEdit(),
    repaint: (what) => {
      if (what === 'image') review.renderImage();
      else if (what === 'diff') {
        review.renderDiff();
        review.updateFigures();
      } else review.renderAll();
      review.onDraw?.();
    },
    fitView,
    actualSizeView,
    zoomView: (factor) => zoomView(factor),
    step,
    focusComment: () =>
      document.querySelector<HTMLTextAreaElement>('[data-testid="review-comment"]')?.focus(),
  };
}

/** Says why `action` did not run, where the user is looking. */
function refuse(action: EditorAction, reason: string): void {
  notify(`${action.label}: ${reason}`, { kind: 'info', key: 'action' });
}

function fail(action: EditorAction, error: unknown): void {
  notify(`${action.description} failed: ${errorMessage(error)}`);
}

/** Runs an action by id if it is enabled now; otherwise says why not. Returns whether it ran. */
export function runAction(id: string): boolean {
  const action = actionById(id);
  const reason = disabledReason(action, useReviewStore.getState());
  if (reason !== null) {
    refuse(action, reason);
    return false;
  }
  try {
    const result = action.perform(context());
    if (result instanceof Promise) {
      result.catch((error: unknown) => fail(action, error));
    }
  } catch (error) {
    fail(action, error);
  }
  return true;
}

/** A primary-button press on the image with the chosen tool. */
export function pressTool(point: Point, modifiers: { alt: boolean }): PressResult {
  const state = useReviewStore.getState();
  const action = actionOfTool(state.tool);
  const reason = disabledReason(action, state);
  if (reason !== null) {
    refuse(action, reason);
    return null;
  }
  return action.tool!.press(context(), point, modifiers);
}

// The project's read-only state, where the editor's actions read it. A read-only project opens on
// Pan: the tools that paint are off, and the image can still be moved, zoomed and windowed.
function followReadOnly(readOnly: string | null): void {
  const { readOnly: shown, tool } = useReviewStore.getState();
  if (readOnly === shown) return;
  useReviewStore.setState(
    readOnly && actionOfTool(tool).editsLabel
      ? { readOnly, tool: 'pan', polygon: [] }
      : { readOnly },
  );
}
followReadOnly(useAppStore.getState().project?.readOnly ?? null);
useAppStore.subscribe((app) => followReadOnly(app.project?.readOnly ?? null));
