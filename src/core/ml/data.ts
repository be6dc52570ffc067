/**
 * The worker's inputs: image/label pairs read from project.sqlite opened READ-ONLY (the host is
 * the only writer), pixels read and resized here (image bilinear, mask nearest), the seeded
 * train/validation split and the hashes that identify a split and a label set in a model card.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import sharp from 'sharp';
import { probeImageFile, readGray8 } from '../dataset/decode';
import { trainingPairs, type LabelSource, type TrainingPair } from '../project/masks';
import { labelPixels, labelSourcePairs, type LabelSourceSpec } from '../project/label-source';
import { DATABASE_FILE, openDatabase, type Db } from '../project/store';
import { splitTrainVal } from '../math/split';
import type { TrainItem } from './trainer';

export type { TrainingPair };

export const ALL_LABEL_SOURCES: LabelSource[] = ['ground-truth', 'accepted', 'corrected'];

export function openProjectReadOnly(projectDir: string): Db {
  return openDatabase(path.join(projectDir, DATABASE_FILE), { readonly: true });
}

export interface DataSplits {
  train: TrainingPair[];
  val: TrainingPair[];
  /** The locked test split: the dataset's test images with the label in force, whatever the label set. */
  test: TrainingPair[];
}

export function readSplits(
  db: Db,
  labels: LabelSource[],
  valFraction: number,
  seed: number,
  /** Whose labels train (`--source`); the locked test split keeps the label in force. */
  source: LabelSourceSpec = { kind: 'final' },
): DataSplits {
  const trainPairs = labelSourcePairs(db, { splits: ['train'], sources: labels }, source);
  const test = trainingPairs(db, { splits: ['test'], sources: ALL_LABEL_SOURCES });
  return { ...splitTrainVal(trainPairs, valFraction, seed), test };
}

function sha256(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/** Identifies the locked test split (external versions are tested on it too). */
export function testSplitHash(test: TrainingPair[]): string {
  return sha256(test.map((pair) => [pair.imageId, pair.relPath]).sort());
}

export function splitHashes(splits: DataSplits, labels: LabelSource[]) {
  const ids = (pairs: TrainingPair[]) => pairs.map((pair) => pair.imageId).sort((a, b) => a - b);
  return {
    splitHash: sha256({ train: ids(splits.train), val: ids(splits.val), test: ids(splits.test) }),
    testSplitHash: testSplitHash(splits.test),
    labelSetHash: sha256({
      labels: [...labels].sort(),
      pairs: [...splits.train, ...splits.val]
        .map((pair) => [
          pair.imageId,
          pair.label ? pair.label.key : pair.labelRevisionId,
          pair.labelSource,
        ])
        .sort((a, b) => (a[0] as number) - (b[0] as number)),
    }),
  };
}

/** Resizes 8-bit gray pixels; 'linear' for images and probabilities, 'nearest' for masks. */
export async function resizeGray(
  data: Uint8Array,
  width: number,
  height: number,
  toWidth: number,
  toHeight: number,
  kernel: 'linear' | 'nearest',
): Promise<Uint8Array> {
  if (width === toWidth && height === toHeight) return data;
  const out = await sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
    raw: { width, height, channels: 1 },
  })
    .resize(toWidth, toHeight, { fit: 'fill', kernel })
    .toColourspace('b-w')
    .raw()
    .toBuffer();
  if (out.length !== toWidth * toHeight) {
    throw new Error(`resize gave ${out.length} bytes for ${toWidth}x${toHeight} gray pixels`);
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** The size of an image when it was imported, and its name to say which one changed. */
export interface ImportedSize {
  relPath: string;
  width: number;
  height: number;
}

/**
 * Full-resolution gray pixels of an image file. Given the size recorded at import, the file's
 * header is checked first, so a file replaced since (possibly by one far too large to decode) is
 * refused, naming both sizes, before any pixel is decoded.
 */
export async function readImagePixels(imagePath: string, imported?: ImportedSize) {
  if (imported) {
    const header = await probeImageFile(imagePath);
    if (header.width !== imported.width || header.height !== imported.height) {
      throw new Error(
        `${imported.relPath} is ${header.width}x${header.height} on disk but was ${imported.width}x${imported.height} when imported: import the dataset again`,
      );
    }
  }
  return readGray8(imagePath);
}

/** Full-resolution 0/255 label of a pair. */
export async function readLabelPixels(db: Db, pair: TrainingPair): Promise<Uint8Array> {
  return labelPixels(db, pair);
}

/**
 * A pair ready for training: resized to the input size, or (tile mode) at its own resolution, from
 * which the trainer cuts seeded crops.
 */
export async function loadTrainItem(
  db: Db,
  pair: TrainingPair,
  size: number,
  mode: 'resize' | 'tile' = 'resize',
): Promise<TrainItem> {
  const image = await readImagePixels(pair.imagePath, pair);
  const label = await readLabelPixels(db, pair);
  if (label.length !== image.width * image.height) {
    throw new Error(
      `label of ${pair.relPath} is not ${image.width}x${image.height} (the image changed on disk?)`,
    );
  }
  if (mode === 'tile') {
    const mask = new Uint8Array(label.length);
    for (let i = 0; i < label.length; i++) mask[i] = label[i] > 0 ? 255 : 0;
    return {
      imageId: pair.imageId,
      image: image.data,
      mask,
      width: image.width,
      height: image.height,
    };
  }
  return {
    imageId: pair.imageId,
    image: await resizeGray(image.data, image.width, image.height, size, size, 'linear'),
    mask: await resizeGray(label, image.width, image.height, size, size, 'nearest'),
  };
}
