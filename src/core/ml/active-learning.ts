/**
 * Active learning: which unreviewed images a reviewer should look at first.
 * - uncertainty: how undecided the lesion a prediction outlines is (../math/uncertainty.ts, 0 sure ..
 *   1 undecided); stored as `prediction_stats.uncertainty` when the prediction is saved.
 * - change between two model versions of the same image, stored per (image, newer version) in
 *   `prediction_changes` when a batch prediction finishes: `changed` is the mean absolute change of
 *   the probability, `disagreement` is 1 - Dice between the two thresholded masks.
 * The worklist sorts on these columns (images.list sorts 'uncertainty', 'changed', 'disagreement').
 */
import { confusion, metricsFromConfusion } from '../../shared/metrics';
import { decodeGray8 } from '../project/mask-png';
import { statement, type Db, type ProjectStore } from '../project/store';
import { activeHistory, activeVersion, readCard } from './versions';

export interface PredictionChange {
  /** Mean |p_a - p_b| over the pixels (0..1). */
  changed: number;
  /** 1 - Dice of the two masks thresholded at 0.5 (0 when both are empty). */
  disagreement: number;
}

/** How much two 8-bit probability maps of the same image differ. */
export function predictionChange(a: Uint8Array, b: Uint8Array): PredictionChange {
  if (a.length !== b.length) {
    throw new Error(`probability maps differ in size (${a.length} and ${b.length} pixels)`);
  }
  const n = a.length;
  let absolute = 0;
  for (let i = 0; i < n; i++) absolute += Math.abs(a[i] - b[i]);
  const binaryB = new Uint8Array(n);
  for (let i = 0; i < n; i++) binaryB[i] = b[i] >= 128 ? 255 : 0;
  const dice = metricsFromConfusion(confusion(a, binaryB, 0.5)).dice;
  return { changed: n === 0 ? 0 : absolute / (255 * n), disagreement: 1 - dice };
}

/**
 * The version a new prediction of `version` is compared with: the version that was active before
 * it when it is active, else the active one, else its parent.
 */
export function changeReference(store: ProjectStore, version: string): string | null {
  const active = activeVersion(store);
  if (active === version) {
    const previous = activeHistory(store)
      .filter((v) => v !== version)
      .pop();
    if (previous) return previous;
  } else if (active) {
    return active;
  }
  return readCard(store, version)?.parent ?? null;
}

interface PairRow {
  imageId: number;
  revisionA: number;
  revisionB: number;
}

async function revisionGray(db: Db, revisionId: number): Promise<Uint8Array> {
  const row = statement(db, 'SELECT png FROM mask_revisions WHERE id = ?').get(revisionId) as
    { png: Buffer } | undefined;
  if (!row) throw new Error(`no mask revision ${revisionId}`);
  return (await decodeGray8(row.png)).data;
}

/**
 * Stores, for every image predicted by both `version` and its reference (or only `imageIds`), how
 * much the prediction changed. Returns the reference and the number of rows written.
 */
export async function recordPredictionChanges(
  store: ProjectStore,
  version: string,
  imageIds: readonly number[] | null = null,
  signal?: AbortSignal,
): Promise<{ reference: string | null; images: number }> {
  const reference = changeReference(store, version);
  if (!reference) return { reference, images: 0 };
  const db = store.db;
  let rows = statement(
    db,
    `SELECT a.image_id AS imageId, a.revision_id AS revisionA, b.revision_id AS revisionB
       FROM prediction_stats a
       JOIN prediction_stats b ON b.image_id = a.image_id AND b.model_version = ?
       WHERE a.model_version = ? ORDER BY a.image_id`,
  ).all(reference, version) as PairRow[];
  if (imageIds) {
    const wanted = new Set(imageIds);
    rows = rows.filter((row) => wanted.has(row.imageId));
  }
  const upsert = statement(
    db,
    `INSERT INTO prediction_changes (image_id, model_version, reference_version, changed, disagreement)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (image_id, model_version) DO UPDATE SET
         reference_version = excluded.reference_version, changed = excluded.changed,
         disagreement = excluded.disagreement`,
  );
  let written = 0;
  for (const row of rows) {
    if (signal?.aborted) break;
    // Decoding is async (sharp), so the host's event loop stays free between images.
    const [a, b] = await Promise.all([
      revisionGray(db, row.revisionA),
      revisionGray(db, row.revisionB),
    ]);
    if (a.length !== b.length) continue;
    const change = predictionChange(a, b);
    upsert.run(row.imageId, version, reference, change.changed, change.disagreement);
    written++;
  }
  return { reference, images: written };
}
