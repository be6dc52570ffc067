/**
 * A training batch from its items: the seeded crop (tile mode), bytes to floats, the seeded
 * augmentation and, for weighted BCE, the border weight map. A pure function of its request, so
 * the loader thread (./batch-loader.ts) and the training loop give the same floats.
 */
import { augment, DEFAULT_AUGMENT } from './augment';
import { deriveSeed, Random } from '../math/random';
import { borderWeightMap } from './weight-map';

/** One image/label pair at the network's input size: bytes 0..255 and 0/1 (or 0/255). */
export interface TrainItem {
  imageId: number;
  image: Uint8Array;
  mask: Uint8Array;
  /** Set when the item is at its own resolution (tile mode); absent means size x size. */
  width?: number;
  height?: number;
}

/**
 * A seeded size x size crop of an item at its own resolution (tile mode), mirror-padded where the
 * image is smaller than the crop. Items already at the input size come back as they are.
 */
export function cropItem(item: TrainItem, size: number, random: Random): TrainItem {
  const width = item.width ?? size;
  const height = item.height ?? size;
  if (width === size && height === size) return item;
  const x0 = width > size ? random.int(width - size + 1) : -Math.floor((size - width) / 2);
  const y0 = height > size ? random.int(height - size + 1) : -Math.floor((size - height) / 2);
  const reflect = (v: number, n: number) => {
    if (n === 1) return 0;
    const period = 2 * (n - 1);
    let r = Math.abs(v) % period;
    if (r > n - 1) r = period - r;
    return r;
  };
  const image = new Uint8Array(size * size);
  const mask = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    const sy = reflect(y0 + y, height);
    for (let x = 0; x < size; x++) {
      const source = sy * width + reflect(x0 + x, width);
      image[y * size + x] = item.image[source];
      mask[y * size + x] = item.mask[source];
    }
  }
  return { imageId: item.imageId, image, mask };
}

/** Scales 0..255 bytes to 0..1 floats. */
export function toUnitFloat(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] / 255;
  return out;
}

function maskToFloat(mask: Uint8Array): Float32Array {
  const out = new Float32Array(mask.length);
  for (let i = 0; i < mask.length; i++) out[i] = mask[i] > 0 ? 1 : 0;
  return out;
}

export interface BatchRequest {
  items: TrainItem[];
  size: number;
  /** The run's seed and the epoch: with the image ids they seed the crop and the augmentation. */
  seed: number;
  epoch: number;
  augment: boolean;
  /** Whether the loss takes border weight maps (weighted BCE). */
  weighted: boolean;
}

export interface PreparedBatch {
  images: Float32Array;
  masks: Float32Array;
  weights: Float32Array | null;
  count: number;
}

export function prepareBatch(request: BatchRequest): PreparedBatch {
  const { items, size, seed, epoch } = request;
  const pixels = size * size;
  const images = new Float32Array(items.length * pixels);
  const masks = new Float32Array(items.length * pixels);
  const weights = request.weighted ? new Float32Array(items.length * pixels) : null;
  items.forEach((source, slot) => {
    const item = cropItem(source, size, new Random(deriveSeed(seed, epoch, source.imageId, 0xc0)));
    let image = toUnitFloat(item.image);
    let mask = maskToFloat(item.mask);
    if (request.augment) {
      const out = augment(
        { image, mask, width: size, height: size },
        deriveSeed(seed, epoch, item.imageId),
        DEFAULT_AUGMENT,
      );
      image = out.image;
      mask = out.mask;
    }
    images.set(image, slot * pixels);
    masks.set(mask, slot * pixels);
    if (weights) weights.set(borderWeightMap(mask, size, size), slot * pixels);
  });
  return { images, masks, weights, count: items.length };
}
