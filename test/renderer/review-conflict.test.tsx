/**
 * The review editor against a real host (./real-host.ts: the core service on a temp project,
 * only the browser's pixel codec replaced by sharp); everything the user does goes through the
 * controller and the panels.
 *
 * - A save refused because another save landed first reloads the latest label into the editor,
 *   says so, and keeps the user's edit to re-apply on top (or discard).
 * - The label layer is the label in force, named as such, and its figures equal the host's
 *   `images.metrics` for the 'label' layer.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
// The host is real and runs in-process (./real-host.ts); the renderer reaches it only through
// window.api.
/* eslint-disable no-restricted-imports */
import { savePrediction } from '../../src/core/project/masks';
import { ACTIVE_MODEL_KEY } from '../../src/core/project/review';
/* eslint-enable no-restricted-imports */
import { rectMask } from '../unit/project-fixtures';
import { hostLabel, pngBase64 as encode, startHost as startRealHost, stopHost } from './real-host';

const W = 32;
const H = 24;

// The browser's codec (createImageBitmap, OffscreenCanvas) does not exist in jsdom: sharp instead.
vi.mock(
  '../../src/renderer/src/review/media',
  async () => (await import('./real-host')).mediaCodec,
);

const pngBase64 = (data: Uint8Array) => encode(data, W, H);

/** A project with one image and its ground truth (see ./real-host.ts for the transports). */
async function startHost(gt: Uint8Array, transport: 'http' | 'electron' = 'http') {
  const host = await startRealHost([{ name: 'a.png', split: 'train', gt }], {
    width: W,
    height: H,
    transport,
  });
  return { ...host, id: host.ids[0] };
}

const at = (data: ArrayLike<number>, x: number, y: number) => (data[y * W + x] > 0 ? 1 : 0);

afterEach(() => {
  cleanup();
  stopHost();
  vi.restoreAllMocks();
  vi.resetModules();
});

describe('review editor: a save refused by a conflict', () => {
  it.each(['http', 'electron'] as const)(
    'reloads the latest label, says what happened, and re-applies the user edit on top (%s)',
    async (transport) => {
      const gt = rectMask(W, H, 2, 2, 10, 10);
      const { service, id, review, useReviewStore, panels } = await startHost(gt, transport);
      render(<panels.ReviewPanel />);
      await review.select(id);
      const opened = useReviewStore.getState().detail!;
      expect(opened.labelRevisionId).toBe(opened.groundTruthRevisionId);

      // Another window saves first: it replaces the lesion with one at the right.
      const theirs = await service.invoke('masks.save', {
        imageId: id,
        png: await pngBase64(rectMask(W, H, 20, 10, 28, 20)),
        baseRevisionId: opened.labelRevisionId,
      });

      // The user, still on the ground truth, paints a line at the bottom left.
      useReviewStore.getState().set({ brushRadius: 1 });
      review.strokeBegin({ x: 3, y: 18 }, false);
      review.strokeTo({ x: 12, y: 18 });
      review.strokeEnd();
      const mine = review.layerValues('label')!.slice();
      expect(at(mine, 7, 18)).toBe(1);

      // The host refused it; the panel says so, and does not just say "save failed".
      const notice = await screen.findByTestId('save-conflict');
      expect(notice.textContent).toMatch(/Another save changed this label/);
      expect(notice.textContent).toContain(`revision ${theirs.labelRevisionId}`);
      expect(notice.textContent).toMatch(/your edit was not saved/);
      expect(screen.getByTestId('save-status').textContent).toBe('not saved: newer label loaded');
      expect(useReviewStore.getState().saveStatus).toBe('conflict');
      // The host's own words, whatever the transport did to the error on the way.
      expect(useReviewStore.getState().saveError).toMatch(/the label of image \d+ moved/);

      // The editor now shows the host's latest label, and the next save builds on it.
      const shown = review.layerValues('label')!;
      expect(at(shown, 24, 15)).toBe(1);
      expect(at(shown, 5, 5)).toBe(0);
      expect(at(shown, 7, 18)).toBe(0);
      expect(useReviewStore.getState().detail?.labelRevisionId).toBe(theirs.labelRevisionId);
      expect((await service.invoke('images.get', { id })).labelRevisionId).toBe(
        theirs.labelRevisionId,
      );

      // Re-apply: the user's stroke lands on top of the other save; both are kept on the host.
      fireEvent.click(screen.getByTestId('conflict-reapply'));
      await waitFor(() => expect(useReviewStore.getState().saveStatus).toBe('saved'));
      expect(screen.queryByTestId('save-conflict')).toBeNull();
      const merged = await hostLabel(service, id);
      expect(at(merged, 24, 15)).toBe(1); // theirs
      expect(at(merged, 7, 18)).toBe(1); // mine
      expect(at(merged, 5, 5)).toBe(0); // the lesion they removed stays removed
      expect(Array.from(review.layerValues('label')!, (v) => (v > 0 ? 1 : 0))).toEqual(
        Array.from(merged, (v) => (v > 0 ? 1 : 0)),
      );

      // The re-applied edit is an ordinary revision: undo goes back to the other save's label.
      await review.undo();
      expect((await service.invoke('images.get', { id })).labelRevisionId).toBe(
        theirs.labelRevisionId,
      );
    },
  );

  it('keeps the refused edit across an image switch, and discarding it keeps the newer save', async () => {
    const gt = rectMask(W, H, 2, 2, 10, 10);
    const { service, id, review, useReviewStore, panels } = await startHost(gt);
    render(<panels.ReviewPanel />);
    await review.select(id);
    const base = useReviewStore.getState().detail!.labelRevisionId;
    const theirs = await service.invoke('masks.save', {
      imageId: id,
      png: await pngBase64(rectMask(W, H, 0, 0, 4, 4)),
      baseRevisionId: base,
    });
    useReviewStore.getState().set({ brushRadius: 1 });
    review.strokeBegin({ x: 15, y: 15 }, false);
    review.strokeEnd();
    await screen.findByTestId('save-conflict');

    // Reopening the image (as after a switch) still offers the edit.
    await review.select(id);
    expect(useReviewStore.getState().conflict).toMatchObject({
      imageId: id,
      latestRevisionId: theirs.labelRevisionId,
    });
    expect(useReviewStore.getState().conflict!.changedPixels).toBeGreaterThan(0);
    fireEvent.click(await screen.findByTestId('conflict-discard'));
    expect(screen.queryByTestId('save-conflict')).toBeNull();
    expect(useReviewStore.getState().conflict).toBeNull();
    expect((await service.invoke('images.get', { id })).labelRevisionId).toBe(
      theirs.labelRevisionId,
    );
    expect(at(await hostLabel(service, id), 15, 15)).toBe(0);
  });

  it('keeps the user pixels in the editor when the latest label cannot be loaded', async () => {
    const { service, id, failing, review, useReviewStore, panels } = await startHost(
      rectMask(W, H, 2, 2, 10, 10),
    );
    render(<panels.ReviewPanel />);
    await review.select(id);
    const theirs = await service.invoke('masks.save', {
      imageId: id,
      png: await pngBase64(rectMask(W, H, 20, 10, 28, 20)),
      baseRevisionId: useReviewStore.getState().detail!.labelRevisionId,
    });
    failing.add('images.get');
    useReviewStore.getState().set({ brushRadius: 1 });
    review.strokeBegin({ x: 3, y: 18 }, false);
    review.strokeEnd();
    const notice = await screen.findByTestId('save-conflict');
    expect(notice.textContent).toMatch(/latest label could not be loaded/);
    expect(useReviewStore.getState().saveStatus).toBe('error');
    expect(at(review.layerValues('label')!, 3, 18)).toBe(1); // still the user's pixels

    // Reopening loads the latest label; the edit is still offered beside it.
    failing.clear();
    await review.select(id);
    expect(at(review.layerValues('label')!, 24, 15)).toBe(1);
    expect(at(review.layerValues('label')!, 3, 18)).toBe(0);
    expect((await screen.findByTestId('save-conflict')).textContent).toContain(
      `revision ${theirs.labelRevisionId}`,
    );
    fireEvent.click(screen.getByTestId('conflict-reapply'));
    await waitFor(() => expect(useReviewStore.getState().saveStatus).toBe('saved'));
    const merged = await hostLabel(service, id);
    expect([at(merged, 3, 18), at(merged, 24, 15), at(merged, 5, 5)]).toEqual([1, 1, 0]);
  });
});

describe('review editor: the label layer', () => {
  it('names the label in force and measures it as the host does for "label"', async () => {
    const gt = rectMask(W, H, 2, 2, 12, 12);
    const { service, id, store, review, useReviewStore, panels } = await startHost(gt);
    // A prediction of the active model: 8..16 x 4..12 above the cut.
    const probabilities = new Uint8Array(W * H).map((_, i) =>
      i % W >= 8 && i % W < 16 && Math.floor(i / W) >= 4 && Math.floor(i / W) < 12 ? 220 : 30,
    );
    await savePrediction(store.db, id, 'v1', probabilities);
    store.setMeta(ACTIVE_MODEL_KEY, 'v1');
    render(
      <>
        <panels.LayersPanel />
        <panels.FiguresPanel />
      </>,
    );
    await review.select(id);
    const name = () => screen.getByTestId('layer-name-label').textContent;
    expect(name()).toBe('Label (ground truth)');
    const reference = screen.getByTestId<HTMLSelectElement>('diff-reference');
    fireEvent.change(screen.getByTestId('diff-candidate'), { target: { value: 'prediction' } });
    fireEvent.change(reference, { target: { value: 'label' } });
    expect(reference.selectedOptions[0].textContent).toBe('Label (ground truth)');

    const figures = () => useReviewStore.getState().figures!.pair!;
    const server = async () =>
      service.invoke('images.metrics', { imageId: id, a: 'prediction', b: 'label' });
    let answer = await server();
    expect(answer.bSource).toBe('ground-truth');
    expect(figures()).toMatchObject({ tp: answer.tp, fp: answer.fp, fn: answer.fn });

    // A stroke makes a correction: the layer's name and the host's answer follow.
    useReviewStore.getState().set({ brushRadius: 1 });
    review.strokeBegin({ x: 20, y: 20 }, false);
    review.strokeTo({ x: 28, y: 20 });
    review.strokeEnd();
    await waitFor(() => expect(useReviewStore.getState().saveStatus).toBe('saved'));
    await waitFor(() => expect(name()).toBe('Label (correction)'));
    answer = await server();
    expect(answer.bSource).toBe('correction');
    expect(answer.bRevisionId).toBe(useReviewStore.getState().detail!.correctionRevisionId);
    expect(figures()).toMatchObject({ tp: answer.tp, fp: answer.fp, fn: answer.fn });
    expect(answer.fn).toBeGreaterThan(0);
  });
});
