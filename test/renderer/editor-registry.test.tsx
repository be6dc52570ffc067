/**
 * The editor's one registry of actions, read by the panels, the help and the key handler:
 * - every registered action can be reached (a key, or a button on screen) and is in the `?` help;
 * - an action that cannot run now is disabled with its reason on hover, and its key says why
 *   instead of doing nothing;
 * - `o` outlines only the selected layer.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import type { ImageDetail } from '../../src/shared/contract-review';
import { createApi } from '../../src/shared/client';

function detail(patch: Partial<ImageDetail> = {}): ImageDetail {
  return {
    id: 7,
    datasetId: 1,
    relPath: 'Images/a.png',
    name: 'a.png',
    split: 'train',
    width: 32,
    height: 24,
    bitDepth: 8,
    channels: 1,
    sha256: 'f'.repeat(64),
    status: 'present',
    reviewState: 'unreviewed',
    comment: '',
    groundTruthRevisionId: 3,
    correctionRevisionId: null,
    labelRevisionId: 3,
    predictionRevisionId: null,
    activeModel: null,
    prediction: null,
    canUndo: false,
    canRedo: false,
    updatedAt: '2025-01-01T00:00:00Z',
    reviewedAt: null,
    ...patch,
  };
}

async function loadEditor(open: Partial<ImageDetail> | null) {
  // No host call is made by what these tests click; answer nothing.
  window.api = createApi({
    call: async () => {
      throw new Error('no host in this test');
    },
    subscribe: () => () => undefined,
    mediaUrl: (kind, id) => `test://${kind}/${id}`,
  });
  const registry = await import('../../src/renderer/src/editor/registry');
  const run = await import('../../src/renderer/src/editor/run');
  const panels = await import('../../src/renderer/src/review/Panels');
  const { useReviewStore } = await import('../../src/renderer/src/review/review-store');
  const { useNotices } = await import('../../src/renderer/src/common/notices');
  const { Notices } = await import('../../src/renderer/src/common/Notices');
  // An open image is the one selected in the worklist and shown.
  const shown = open ? detail(open) : null;
  useReviewStore.getState().set({ detail: shown, selectedId: shown?.id ?? null });
  const screenOf = () => (
    <>
      <panels.ReviewPanel />
      <panels.FiguresPanel />
      <panels.LayersPanel />
      <panels.ToolsPanel />
      <panels.HelpOverlay />
      <Notices />
    </>
  );
  return { registry, run, panels, useReviewStore, useNotices, screenOf };
}

afterEach(() => {
  cleanup();
  vi.resetModules();
  localStorage.clear();
  delete window.api;
});

describe('editor actions registry', () => {
  it('every registered action has a key or a button, and appears in the help', async () => {
    const { registry, useReviewStore, screenOf } = await loadEditor({});
    // The refused-edit buttons show only while there is one: make one.
    useReviewStore.getState().set({
      helpOpen: true,
      conflict: { imageId: 7, reloaded: true, latestRevisionId: 4, changedPixels: 5 },
    });
    render(screenOf());
    expect(registry.ACTIONS.length).toBeGreaterThan(40);
    for (const action of registry.ACTIONS) {
      const help = screen.getByTestId(`help-${action.id}`);
      expect(help.textContent).toContain(action.description);
      // The adjudicator's panel's buttons: test/renderer/adjudication-keys.test.tsx.
      if (action.scope === 'adjudication') continue;
      const button = document.querySelector(`[data-action="${action.id}"]`);
      expect(
        action.keys.length > 0 || button !== null,
        `${action.id} has neither a key nor a button`,
      ).toBe(true);
    }
  });

  it('buttons of the label tools and review states run through the registry', async () => {
    const { useReviewStore, screenOf } = await loadEditor({});
    render(screenOf());
    fireEvent.click(screen.getByTestId('tool-polygonCut'));
    expect(useReviewStore.getState().tool).toBe('polygonCut');
    expect(screen.getByTestId('tool-polygonCut').getAttribute('aria-checked')).toBe('true');
    expect(screen.getByTestId('tool-brush').getAttribute('aria-checked')).toBe('false');
    expect(screen.getByTestId('review-state-unreviewed').getAttribute('aria-checked')).toBe('true');
  });

  it('without a model, every action that needs a prediction is disabled and says why', async () => {
    const { run, useReviewStore, useNotices, screenOf } = await loadEditor({ activeModel: null });
    render(screenOf());
    for (const testId of ['op-threshold-into', 'op-accept', 'tool-keepComponent', 'threshold']) {
      const control = screen.getByTestId<HTMLButtonElement | HTMLInputElement>(testId);
      expect(control.disabled, testId).toBe(true);
      expect(control.title, testId).toMatch(/No model yet: train one .*then run Predict/);
    }
    // The key of a disabled action does nothing to the label, and says why.
    let ran = true;
    act(() => {
      ran = run.runAction('edit.thresholdInto');
    });
    expect(ran).toBe(false);
    expect(useNotices.getState().notices.at(-1)?.text).toMatch(/^Add pred\.: No model yet/);
    expect(useReviewStore.getState().saveStatus).toBe('idle');
    expect(screen.getByTestId('notice').textContent).toMatch(/No model yet/);
  });

  it('with a model but no prediction of this image, the reason is to run Predict', async () => {
    const { screenOf } = await loadEditor({ activeModel: 'v3' });
    render(screenOf());
    const button = screen.getByTestId<HTMLButtonElement>('op-accept');
    expect(button.disabled).toBe(true);
    expect(button.title).toMatch(/No prediction of v3 for this image yet: run Predict/);
  });

  it('an image that cannot be shown: label tools off with the reason, review states on', async () => {
    const { registry, useReviewStore } = await loadEditor({});
    const state = () => useReviewStore.getState();
    useReviewStore.getState().set({
      imageFailure: {
        imageId: state().selectedId!,
        name: 'x.png',
        file: '/data/x.png',
        folder: '/data',
        reason: 'image 1 (x.png in /data) cannot be decoded: unsupported image format',
        advice: 'Restore the file',
      },
    });
    for (const id of ['tool.brush', 'tool.fill', 'edit.clear', 'edit.undo', 'polygon.close']) {
      expect(registry.disabledReason(registry.actionById(id), state()), id).toMatch(
        /cannot be shown: image 1 .*cannot be decoded/,
      );
    }
    for (const id of ['review.flagged', 'review.accepted', 'review.comment', 'view.invert']) {
      expect(registry.disabledReason(registry.actionById(id), state()), id).toBeNull();
    }
  });

  it('while the selected image loads, the previous image on screen takes no edit or review', async () => {
    const { registry, useReviewStore } = await loadEditor({});
    const state = () => useReviewStore.getState();
    useReviewStore.getState().set({ selectedId: state().detail!.id + 1, loadingImage: true });
    for (const id of ['edit.clear', 'edit.fillHoles', 'review.flagged', 'review.comment']) {
      expect(registry.disabledReason(registry.actionById(id), state()), id).toBe(
        registry.LOADING_IMAGE,
      );
    }
  });

  it('with a prediction, the prediction actions are enabled', async () => {
    const { screenOf } = await loadEditor({ activeModel: 'v3', predictionRevisionId: 9 });
    render(screenOf());
    for (const testId of ['op-threshold-into', 'op-accept', 'tool-keepComponent', 'threshold']) {
      expect(screen.getByTestId<HTMLButtonElement>(testId).disabled, testId).toBe(false);
    }
  });

  it('o outlines or fills only the selected layer', async () => {
    const { run, useReviewStore, screenOf } = await loadEditor({});
    render(screenOf());
    const outlines = () => {
      const { layers } = useReviewStore.getState();
      return [layers['ground-truth'].outline, layers.prediction.outline, layers.label.outline];
    };
    const before = outlines();
    act(() => void run.runAction('view.outline'));
    expect(outlines()).toEqual([before[0], before[1], !before[2]]);
    fireEvent.click(screen.getByTestId('layer-select-prediction'));
    act(() => void run.runAction('view.outline'));
    expect(outlines()).toEqual([before[0], !before[1], !before[2]]);
    expect(screen.getByTestId<HTMLInputElement>('layer-outline-prediction').checked).toBe(
      !before[1],
    );
  });
});
