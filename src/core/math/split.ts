/** The seeded train/validation hold-out, shared by training (ml) and the nnU-Net export (formats). */
import { deriveSeed, Random } from './random';

/** Seeded hold-out of `valFraction` of the train split (at least one image when there are two). */
export function splitTrainVal<T extends { imageId: number }>(
  pairs: T[],
  valFraction: number,
  seed: number,
): { train: T[]; val: T[] } {
  const sorted = [...pairs].sort((a, b) => a.imageId - b.imageId);
  if (valFraction <= 0 || sorted.length < 2) return { train: sorted, val: [] };
  const count = Math.min(sorted.length - 1, Math.max(1, Math.round(sorted.length * valFraction)));
  const shuffled = new Random(deriveSeed(seed, 0x5a11)).shuffle([...sorted]);
  const valIds = new Set(shuffled.slice(0, count).map((pair) => pair.imageId));
  return {
    train: sorted.filter((pair) => !valIds.has(pair.imageId)),
    val: sorted.filter((pair) => valIds.has(pair.imageId)),
  };
}
