/** Moving through the worklist: open an image by its index, or step to the next one. */
import { review } from './controller';
import { PAGE_SIZE, findIndex, useReviewStore } from './review-store';

export async function selectIndex(index: number): Promise<void> {
  const store = useReviewStore.getState();
  let item = store.itemAt(index);
  if (!item) {
    const items = await store.loadPage(Math.floor(index / PAGE_SIZE));
    item = items[index % PAGE_SIZE];
  }
  if (!item) return;
  useReviewStore.getState().set({ selectedIndex: index });
  await review.select(item.id);
}

/** Opens the next (1) or previous (-1) image of the worklist, optionally unreviewed only. */
export async function step(direction: 1 | -1, unreviewedOnly: boolean): Promise<void> {
  const { selectedIndex } = useReviewStore.getState();
  const from = selectedIndex ?? (direction === 1 ? -1 : 0);
  const index = await findIndex(
    from,
    direction,
    unreviewedOnly ? (item) => item.reviewState === 'unreviewed' : () => true,
  );
  if (index !== null) await selectIndex(index);
}
