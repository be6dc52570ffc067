/**
 * An edit is never lost to a host that is away: a save that cannot reach the host is kept in the
 * page and sent again (sooner when the connection comes back), later edits with it; a save whose
 * answer was lost after the host committed it is recognised when sent again, not offered as a
 * conflict. Against a real host (./real-host.ts).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import { rectMask } from '../unit/project-fixtures';
import { hostLabel, startHost, stopHost } from './real-host';

vi.mock(
  '../../src/renderer/src/review/media',
  async () => (await import('./real-host')).mediaCodec,
);

const W = 32;
const H = 24;
const at = (data: ArrayLike<number>, x: number, y: number) => (data[y * W + x] > 0 ? 1 : 0);

async function host() {
  const started = await startHost(
    [{ name: 'a.png', split: 'train', gt: rectMask(W, H, 2, 2, 8, 8) }],
    {
      width: W,
      height: H,
    },
  );
  render(<started.panels.ReviewPanel />);
  await started.review.select(started.ids[0]);
  started.useReviewStore.getState().set({ brushRadius: 1 });
  return { ...started, id: started.ids[0] };
}

afterEach(() => {
  cleanup();
  stopHost();
  vi.restoreAllMocks();
  vi.resetModules();
});

describe('saves while the host is away', () => {
  it('keeps an edit the host could not be reached for, with later ones, and saves them when it is back', async () => {
    const { service, id, failing, review, useReviewStore } = await host();
    failing.add('masks.save');
    review.strokeBegin({ x: 20, y: 4 }, false);
    review.strokeEnd();
    await waitFor(() => expect(useReviewStore.getState().saveStatus).toBe('retrying'));
    expect(screen.getByTestId('save-status').textContent).toMatch(/not saved yet/);
    // Another edit while the host is still away.
    review.strokeBegin({ x: 25, y: 20 }, false);
    review.strokeEnd();
    expect(review.savesPending).toBe(true);
    expect((await service.invoke('images.get', { id })).correctionRevisionId).toBeNull();

    failing.clear();
    review.retrySavesNow(); // what the page does when its connection comes back
    await waitFor(() => expect(useReviewStore.getState().saveStatus).toBe('saved'));
    const saved = await hostLabel(service, id);
    expect([at(saved, 20, 4), at(saved, 25, 20), at(saved, 4, 4)]).toEqual([1, 1, 1]);
    expect(review.savesPending).toBe(false);
  });

  it('recognises a save whose answer was lost after the host committed it', async () => {
    const { service, id, lostAnswers, review, useReviewStore } = await host();
    lostAnswers.add('masks.save');
    review.strokeBegin({ x: 20, y: 4 }, false);
    review.strokeEnd();
    await waitFor(() => expect(useReviewStore.getState().saveStatus).toBe('retrying'));
    lostAnswers.clear();
    review.retrySavesNow();
    await waitFor(() => expect(useReviewStore.getState().saveStatus).toBe('saved'));
    expect(useReviewStore.getState().conflict).toBeNull();
    expect(screen.queryByTestId('save-conflict')).toBeNull();
    const history = await service.invoke('masks.history', { imageId: id });
    expect(history.filter((revision) => revision.source === 'correction')).toHaveLength(1);
    expect(at(await hostLabel(service, id), 20, 4)).toBe(1);
    // And the next edit builds on it without a conflict.
    review.strokeBegin({ x: 25, y: 20 }, false);
    review.strokeEnd();
    await waitFor(() => expect(useReviewStore.getState().saveStatus).toBe('saved'));
    expect(at(await hostLabel(service, id), 25, 20)).toBe(1);
  });
});
