/**
 * Loading one image for the viewer: its detail, pixels, masks and (DICOM) display settings. A
 * failure says which part failed and keeps the detail when the host gave it, so an image whose file
 * cannot be shown still opens for review (state, comment) in the viewer's failed state.
 */
import type { ImageDetail, ImageListItem } from '../../../shared/contract-review';
import type { DicomDisplay } from '../../../shared/dicom-voi';
import { api } from '../api';
import { loadGrey, loadImage, type SourceImage } from './media';

export interface OpenedImage {
  detail: ImageDetail;
  image: SourceImage;
  groundTruth: Uint8Array | null;
  label: Uint8Array | null;
  /** Raw 0..255 probabilities. */
  prediction: Uint8Array | null;
  dicomDisplay: DicomDisplay | null;
  /** Time spent on the detail (ms), for the switch breakdown bench/ui-review.ts reads. */
  detailMs: number;
}

/** The image could not be opened; `detail` is set when only its pixels or masks failed. */
export class ImageOpenFailure extends Error {
  constructor(
    readonly imageId: number,
    readonly detail: ImageDetail | null,
    reason: string,
  ) {
    super(reason);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** An image's URL names its content too, so no cache (ours or the browser's) serves old pixels. */
export function imageUrl(imageId: number, sha256: string): string {
  return api.mediaUrl('image', imageId, { v: sha256.slice(0, 16) });
}

export async function loadMask(
  revisionId: number | null,
  kind: 'mask' | 'reading' = 'mask',
): Promise<Uint8Array | null> {
  if (revisionId === null) return null;
  return (await loadGrey(api.mediaUrl(kind, revisionId))).data;
}

/** The label layer's pixels: a team reader's own reading, else the label in force. */
export function loadLabel(
  detail: Pick<ImageDetail, 'labelRevisionId' | 'reading'>,
): Promise<Uint8Array | null> {
  return loadMask(detail.labelRevisionId, detail.reading ? 'reading' : 'mask');
}

/** Opens `imageId`, from `preloaded` detail when given (checked against the host afterwards). */
export async function openImage(
  imageId: number,
  preloaded: ImageDetail | null,
): Promise<OpenedImage> {
  const started = performance.now();
  let detail: ImageDetail;
  try {
    detail = preloaded ?? (await api['images.get']({ id: imageId }));
  } catch (error) {
    throw new ImageOpenFailure(imageId, null, message(error));
  }
  const detailMs = performance.now() - started;
  const image = loadImage(imageUrl(imageId, detail.sha256), detail.sha256);
  const masks = Promise.all([
    loadMask(detail.groundTruthRevisionId),
    loadLabel(detail),
    loadMask(detail.predictionRevisionId),
    detail.dicom ? api['images.display']({ imageId }) : null,
  ]);
  // Both settle before either failure is reported: nothing of this image loads on afterwards.
  const [pixels, layers] = await Promise.allSettled([image, masks]);
  if (pixels.status === 'rejected') {
    throw new ImageOpenFailure(
      imageId,
      detail,
      `The image cannot be shown: ${message(pixels.reason)}`,
    );
  }
  if (layers.status === 'rejected') {
    throw new ImageOpenFailure(
      imageId,
      detail,
      `The image's masks cannot be loaded: ${message(layers.reason)}`,
    );
  }
  const [groundTruth, label, prediction, dicomDisplay] = layers.value;
  return { detail, image: pixels.value, groundTruth, label, prediction, dicomDisplay, detailMs };
}

/** How long a preloaded neighbour's detail may open the image without asking the host first. */
const PRELOAD_FRESH_MS = 30_000;

/**
 * Fetches the worklist neighbours of the shown image ahead (pixels, masks, detail), so the next
 * switch opens at once; the detail it hands out is checked against the host right after.
 */
export class NeighbourPreloader {
  private details = new Map<number, { detail: ImageDetail; at: number }>();

  /** The fresh preloaded detail of `imageId`, used once; null when there is none. */
  take(imageId: number): ImageDetail | null {
    const preloaded = this.details.get(imageId);
    this.details.delete(imageId);
    return preloaded && performance.now() - preloaded.at < PRELOAD_FRESH_MS
      ? preloaded.detail
      : null;
  }

  /** The image changed on the host: its preloaded detail is out of date. */
  forget(imageId: number): void {
    this.details.delete(imageId);
  }

  neighboursOf(worklist: {
    selectedIndex: number | null;
    itemAt: (index: number) => ImageListItem | undefined;
  }): void {
    const { selectedIndex, itemAt } = worklist;
    if (selectedIndex === null) return;
    for (const offset of [1, -1, 2]) {
      const item = itemAt(selectedIndex + offset);
      if (!item) continue;
      void loadImage(imageUrl(item.id, item.sha256), item.sha256).catch(() => undefined);
      void api['images.get']({ id: item.id })
        .then((detail) => {
          this.details.set(item.id, { detail, at: performance.now() });
          while (this.details.size > 8) this.details.delete(this.details.keys().next().value!);
          return Promise.all([
            loadMask(detail.groundTruthRevisionId),
            loadLabel(detail),
            loadMask(detail.predictionRevisionId),
          ]);
        })
        .catch(() => undefined);
    }
  }
}
