import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApi } from '../../src/shared/client';
import type { ImageListItem, ImagesListInput } from '../../src/shared/contract-review';

/** A host with `count` images whose review state follows `stateOf(index)`. */
function fakeHost(
  count: number,
  stateOf: (index: number) => ImageListItem['reviewState'],
  options: { readerQueue?: boolean } = {},
) {
  const calls: ImagesListInput[] = [];
  const items: ImageListItem[] = Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    relPath: `Images/img_${i}.png`,
    name: `img_${i}.png`,
    split: 'train',
    width: 8,
    height: 8,
    reviewState: stateOf(i),
    hasGroundTruth: true,
    hasCorrection: false,
    hasPrediction: false,
    dice: null,
    predictedArea: null,
    uncertainty: null,
    changed: null,
    disagreement: null,
    status: 'present',
    sha256: String(i).padStart(64, '0'),
  }));
  const api = createApi({
    call: async (method, input) => {
      if (method !== 'images.list') throw new Error(`unexpected ${method}`);
      const query = input as ImagesListInput;
      calls.push(query);
      const filtered = items.filter(
        (item) => !query.filter?.state || item.reviewState === query.filter.state,
      );
      const offset = query.offset ?? 0;
      return {
        total: filtered.length,
        items: filtered.slice(offset, offset + (query.limit ?? 200)),
        // A team reader's worklist is their queue (core/team/reader-review.ts).
        ...(options.readerQueue
          ? {
              queue: {
                read: items.filter((item) => item.reviewState !== 'unreviewed').length,
                total: items.length,
              },
            }
          : {}),
      };
    },
    subscribe: () => () => undefined,
    mediaUrl: (kind, id) => `test://${kind}/${id}`,
  });
  return { api, calls };
}

afterEach(() => {
  vi.resetModules();
  delete window.api;
});

describe('review store', () => {
  it('finds the next and previous unreviewed image across lazily loaded pages', async () => {
    // Everything reviewed except images 5 and 450 (pages 0 and 2 of 200).
    const host = fakeHost(500, (i) => (i === 5 || i === 450 ? 'unreviewed' : 'accepted'));
    window.api = host.api;
    const { findIndex, useReviewStore, PAGE_SIZE } =
      await import('../../src/renderer/src/review/review-store');
    const unreviewed = (item: ImageListItem) => item.reviewState === 'unreviewed';
    expect(await findIndex(-1, 1, unreviewed)).toBe(5);
    expect(await findIndex(5, 1, unreviewed)).toBe(450);
    expect(await findIndex(450, 1, unreviewed)).toBeNull();
    expect(await findIndex(450, -1, unreviewed)).toBe(5);
    const pages = Object.keys(useReviewStore.getState().pages).map(Number);
    expect(pages.sort()).toEqual([0, 1, 2]);
    expect(host.calls.every((call) => call.limit === PAGE_SIZE)).toBe(true);
  });

  it('a new query drops old pages and filters on the host; patchItem updates a row in place', async () => {
    const host = fakeHost(30, (i) => (i % 3 === 0 ? 'flagged' : 'unreviewed'));
    window.api = host.api;
    const { useReviewStore } = await import('../../src/renderer/src/review/review-store');
    const store = useReviewStore.getState();
    await store.loadPage(0);
    expect(useReviewStore.getState().total).toBe(30);
    store.setQuery({ filter: { state: 'flagged' } });
    await vi.waitFor(() => expect(useReviewStore.getState().total).toBe(10));
    expect(host.calls.at(-1)?.filter).toEqual({ state: 'flagged' });
    const first = useReviewStore.getState().itemAt(0)!;
    useReviewStore.getState().patchItem(first.id, { reviewState: 'accepted' });
    expect(useReviewStore.getState().itemAt(0)?.reviewState).toBe('accepted');
  });

  it("a reader's queue count follows their own saves, first save and undo back to unread", async () => {
    const host = fakeHost(4, (i) => (i === 0 ? 'negative' : 'unreviewed'), { readerQueue: true });
    window.api = host.api;
    const { useReviewStore } = await import('../../src/renderer/src/review/review-store');
    await useReviewStore.getState().loadPage(0);
    expect(useReviewStore.getState().queue).toEqual({ read: 1, total: 4 });
    const { patchItem } = useReviewStore.getState();
    patchItem(2, { reviewState: 'corrected' });
    expect(useReviewStore.getState().queue).toEqual({ read: 2, total: 4 });
    // A second save of the same image reads nothing new; another patch leaves the count alone.
    patchItem(2, { reviewState: 'corrected' });
    patchItem(3, { mediaError: null });
    patchItem(1, { reviewState: 'negative' });
    expect(useReviewStore.getState().queue).toEqual({ read: 2, total: 4 });
    // Undoing the first save leaves the image unread again.
    patchItem(2, { reviewState: 'unreviewed' });
    expect(useReviewStore.getState().queue).toEqual({ read: 1, total: 4 });
  });
});
