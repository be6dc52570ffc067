/**
 * How two model versions' stored predictions differ, per image: the worklist's "what changed"
 * sort after a new version, and the disagreement order of active learning. Reads the newest
 * prediction of each version (prediction_stats) and compares the probability maps.
 */
import type { ModelChange } from '../../shared/contract-ml';
import { revisionPixels } from '../project/masks';
import type { Db } from '../project/store';

/** Mean |pa - pb| (0..1) and the fraction of pixels whose label at `threshold` flips. */
export function predictionDifference(
  a: Uint8Array,
  b: Uint8Array,
  threshold = 0.5,
): { meanAbsDiff: number; flipped: number } {
  if (a.length !== b.length) throw new Error(`prediction sizes differ: ${a.length} vs ${b.length}`);
  const cut = threshold * 255;
  let sum = 0;
  let flipped = 0;
  for (let i = 0; i < a.length; i++) {
    sum += Math.abs(a[i] - b[i]);
    if (a[i] >= cut !== b[i] >= cut) flipped++;
  }
  const n = a.length || 1;
  return { meanAbsDiff: sum / (255 * n), flipped: flipped / n };
}

export async function predictionChanges(
  db: Db,
  a: string,
  b: string,
  options: { limit: number; threshold: number; signal?: AbortSignal },
): Promise<{ compared: number; images: ModelChange[] }> {
  const rows = db
    .prepare(
      `SELECT pa.image_id AS imageId, i.rel_path AS image, pa.revision_id AS revisionA,
         pb.revision_id AS revisionB
       FROM prediction_stats pa
       JOIN prediction_stats pb ON pb.image_id = pa.image_id AND pb.model_version = ?
       JOIN images i ON i.id = pa.image_id
       WHERE pa.model_version = ?
       ORDER BY pa.image_id`,
    )
    .all(b, a) as { imageId: number; image: string; revisionA: number; revisionB: number }[];
  const images: ModelChange[] = [];
  for (const row of rows) {
    if (options.signal?.aborted) throw new Error('cancelled');
    const [pixelsA, pixelsB] = await Promise.all([
      revisionPixels(db, row.revisionA),
      revisionPixels(db, row.revisionB),
    ]);
    if (pixelsA.length !== pixelsB.length) continue;
    images.push({
      imageId: row.imageId,
      image: row.image,
      ...predictionDifference(pixelsA, pixelsB, options.threshold),
    });
  }
  images.sort((x, y) => y.meanAbsDiff - x.meanAbsDiff || x.imageId - y.imageId);
  return { compared: images.length, images: images.slice(0, options.limit) };
}
