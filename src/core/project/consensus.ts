/**
 * Stored consensus masks of a reading plan (team review): per image and method ('staple' or
 * 'vote'), an 8-bit probability PNG (0..255) in `consensus_masks`.
 *
 * Stand-in on the team-adjud branch: team-agree owns this repository and the table's migration;
 * at merge their version replaces this file (same signatures). Until their migration is in, reads
 * find nothing and `saveConsensus` creates the table.
 */
import { decodeGray8, encodeGray8 } from './mask-png';
import { statement, type Db } from './store';

export type ConsensusMethod = 'staple' | 'vote';

export interface ConsensusReader {
  userId: number;
  revisionId: number;
  sensitivity: number | null;
  specificity: number | null;
}

export interface NewConsensus {
  planId: number;
  imageId: number;
  method: ConsensusMethod;
  /** Per pixel 0..255 (probability × 255); a vote is 0/255. */
  probability: Uint8Array;
  width: number;
  height: number;
  readers: ConsensusReader[];
}

export interface StoredConsensus extends NewConsensus {
  createdAt: string;
}

function hasTable(db: Db): boolean {
  const row = statement(
    db,
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'consensus_masks'",
  ).get();
  return row !== undefined;
}

export async function saveConsensus(db: Db, consensus: NewConsensus): Promise<void> {
  const png = await encodeGray8(consensus.probability, consensus.width, consensus.height);
  db.exec(`
    CREATE TABLE IF NOT EXISTS consensus_masks (
      plan_id INTEGER NOT NULL REFERENCES reading_plans(id) ON DELETE CASCADE,
      image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      method TEXT NOT NULL CHECK (method IN ('staple', 'vote')),
      probability BLOB NOT NULL,
      width INTEGER NOT NULL,
      height INTEGER NOT NULL,
      readers TEXT NOT NULL,
      created_at TEXT NOT NULL,
      PRIMARY KEY (plan_id, image_id, method)
    ) STRICT;
  `);
  statement(
    db,
    `INSERT INTO consensus_masks
       (plan_id, image_id, method, probability, width, height, readers, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (plan_id, image_id, method) DO UPDATE SET
       probability = excluded.probability, width = excluded.width, height = excluded.height,
       readers = excluded.readers, created_at = excluded.created_at`,
  ).run(
    consensus.planId,
    consensus.imageId,
    consensus.method,
    png,
    consensus.width,
    consensus.height,
    JSON.stringify(consensus.readers),
    new Date().toISOString(),
  );
}

/** The stored consensus of an image, or null when none was computed. */
export async function getConsensus(
  db: Db,
  planId: number,
  imageId: number,
  method: ConsensusMethod,
): Promise<StoredConsensus | null> {
  if (!hasTable(db)) return null;
  const row = statement(
    db,
    `SELECT probability, width, height, readers, created_at AS createdAt FROM consensus_masks
      WHERE plan_id = ? AND image_id = ? AND method = ?`,
  ).get(planId, imageId, method) as
    | { probability: Buffer; width: number; height: number; readers: string; createdAt: string }
    | undefined;
  if (!row) return null;
  const pixels = await decodeGray8(row.probability);
  return {
    planId,
    imageId,
    method,
    probability: pixels.data,
    width: row.width,
    height: row.height,
    readers: JSON.parse(row.readers) as ConsensusReader[],
    createdAt: row.createdAt,
  };
}

/** The consensus as a label: 255 where its probability is ≥ 0.5 (byte ≥ 128), else 0; or null. */
export async function consensusMask(
  db: Db,
  planId: number,
  imageId: number,
  method: ConsensusMethod,
): Promise<Uint8Array | null> {
  const stored = await getConsensus(db, planId, imageId, method);
  if (!stored) return null;
  return stored.probability.map((value) => (value >= 128 ? 255 : 0));
}
