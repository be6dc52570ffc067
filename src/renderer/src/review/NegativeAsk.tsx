/**
 * Negative means the image has no lesion. Marking an image negative while its label has one asks:
 * clear the label (an edit like any other, so it joins undo) and mark the image negative, or keep
 * the label, and the image is not negative.
 */
import { clearLabel } from '../mask/label-map';
import { review } from './controller';
import { useReviewStore } from './review-store';
import { plural } from '../../../shared/plural';

async function answer(clear: boolean): Promise<void> {
  const ask = useReviewStore.getState().negativeAsk;
  useReviewStore.getState().set({ negativeAsk: null });
  if (!clear || !ask || review.bundle?.detail.id !== ask.imageId) return;
  review.apply((label) => clearLabel(label));
  await review.setReview({ state: 'negative' }, ask.imageId);
}

export function NegativeAsk({ imageId }: { imageId: number }) {
  const ask = useReviewStore((s) => s.negativeAsk);
  if (!ask || ask.imageId !== imageId) return null;
  return (
    <div className="negative-ask" role="alertdialog" data-testid="negative-ask">
      <p>
        The label has a lesion ({plural(ask.pixels, 'pixel')}). Negative means no lesion: clear the
        label, or keep it and leave the image not negative.
      </p>
      <div className="button-grid">
        <button type="button" data-testid="negative-clear" onClick={() => void answer(true)}>
          Clear label, mark negative
        </button>
        <button type="button" data-testid="negative-keep" onClick={() => void answer(false)}>
          Keep label
        </button>
      </div>
    </div>
  );
}
