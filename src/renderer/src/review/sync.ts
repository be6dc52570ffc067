/**
 * Keeps the worklist and the open image in step with the host: another window's review or save,
 * a refresh import, a batch of predictions all arrive as `images.changed`.
 */
import { api } from '../api';
import { review } from './controller';
import { listFigures } from './save-queue';
import { useReviewStore } from './review-store';

/** More changed images than this: the whole list is fetched again rather than row by row. */
const ROW_REFRESH_LIMIT = 50;

function loaded(imageId: number): boolean {
  return Object.values(useReviewStore.getState().pages).some((items) =>
    items.some((item) => item.id === imageId),
  );
}

/** Re-reads one row from the host; a failure leaves it as it was until the next change. */
function refreshRow(imageId: number): void {
  if (!loaded(imageId)) return;
  api['images.get']({ id: imageId }).then(
    (detail) => useReviewStore.getState().patchItem(imageId, listFigures(detail)),
    () => undefined,
  );
}

/** Subscribes to the host's image changes; returns the unsubscribe function. */
export function followImageChanges(): () => void {
  return api.on('images.changed', (change) => {
    const ids = change.imageIds;
    // Imports and batch predictions change many rows (and their order): refetch the worklist.
    const many = !ids || ids.length > ROW_REFRESH_LIMIT;
    if (change.reason === 'import' || change.reason === 'prediction' || many) {
      useReviewStore.getState().setQuery({});
    } else {
      ids.forEach(refreshRow);
    }
    // The selected image, shown or failed (a failed one may have been flagged elsewhere, or its
    // file repaired by a refresh import).
    const open = useReviewStore.getState().selectedId;
    if (open !== null && (!ids || ids.includes(open))) void review.refreshOpen(change.reason);
  });
}
