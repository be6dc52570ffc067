/**
 * What the user has selected and what the viewer shows of it. The worklist's selection is the one
 * truth: an action may touch an image only while that image is both selected and shown (not still
 * loading, not failed). An image that cannot be shown gets an `ImageFailure` in the viewer's
 * place; its review state and comment stay usable, its label tools are off with the reason.
 */
import type { ImageDetail } from '../../../shared/contract-review';
import { useReviewStore, type ImageFailure } from './review-store';

export type { ImageFailure };

/** True when `imageId` is the image selected in the worklist. */
export function isSelected(imageId: number): boolean {
  return useReviewStore.getState().selectedId === imageId;
}

/**
 * The detail of the selected image, whether its pixels are shown or failed; null while it loads
 * (the detail on screen may still be the previous image's).
 */
export function selectedDetail(): ImageDetail | null {
  const { detail, selectedId } = useReviewStore.getState();
  return detail && detail.id === selectedId ? detail : null;
}

/** The folder of a host path, whichever separator the host uses. */
export function folderOf(file: string): string {
  const cut = Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
  return cut > 0 ? file.slice(0, cut) : file;
}

const ADVICE =
  'Check the file: it may have been replaced, moved or damaged since the import. Restore it, or ' +
  'import the dataset again. You can still set this image’s review state (flag it) and comment.';

/** Describes an image that cannot be shown, for the viewer's place and the tools' tooltips. */
export function describeFailure(
  imageId: number,
  detail: ImageDetail | null,
  reason: string,
): ImageFailure {
  return {
    imageId,
    name: detail?.name ?? `image ${imageId}`,
    file: detail?.file ?? null,
    folder: detail?.file ? folderOf(detail.file) : null,
    reason,
    advice: ADVICE,
  };
}
