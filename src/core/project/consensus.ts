/**
 * Stored consensus masks of a reading plan (team review): per image and method ('staple' or
 * 'vote'), an 8-bit probability PNG (0..255) in `consensus_masks`.
 *
 * Stand-in on the team-adjud branch: team-agree owns this repository and the table's migration;
 * at merge their version replaces this file. The functions keep the agreed signatures; until the
 * table exists (team-agree's migration), reads find nothing and `saveConsensus` creates it.
 */
import { ApiError } from '../../shared/contract';
import { decodeGray8, encodeGray8 } from './mask-png';
import { statement, type Db } from './store';

export type ConsensusMethod = 'staple' | 'vote';

export interface StoredConsensus {
  planId: number;
  imageId: number;
  method: ConsensusMethod;
  /** 8-bit gray PNG, 0..255 = probability of lesion. */
  probability: Buffer;
  createdAt: string;
}

function hasTable(db: Db): boolean {
  return (
    statement(
      db,
      "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'consensus_masks'",
    ).get() !== undefined
  );
}

function ensureTable(db: Db): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS consensus_masks (
      plan_id INTEGER NOT NULL REFERENCES reading_plans(id) ON DELETE CASCADE,
      image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      method TEXT NOT NULL CHECK (method IN ('staple', 'vote')),
      probability BLOB NOT NULL,
      created_at TEXT NOT NULL,
      PRIMARY KEY (plan_id, image_id, method)
    ) STRICT;
  `);
}

/** Stores (or replaces) an image's consensus: `probability` one byte per pixel, 0..255. */
export async function saveConsensus(
  db: Db,
  consensus: {
    planId: number;
    imageId: number;
    method: ConsensusMethod;
    probability: Uint8Array;
    width: number;
    height: number;
  },
): Promise<void> {
  const png = await encodeGray8(consensus.probability, consensus.width, consensus.height);
  ensureTable(db);
  statement(
    db,
    `INSERT INTO consensus_masks (plan_id, image_id, method, probability, created_at)
     VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (plan_id, image_id, method) DO UPDATE SET probability = excluded.probability,
       created_at = excluded.created_at`,
  ).run(consensus.planId, consensus.imageId, consensus.method, png, new Date().toISOString());
}

export function getConsensus(
  db: Db,
  planId: number,
  imageId: number,
  method: ConsensusMethod,
): StoredConsensus | null {
  if (!hasTable(db)) return null;
  const row = statement(
    db,
    `SELECT plan_id AS planId, image_id AS imageId, method, probability, created_at AS createdAt
       FROM consensus_masks WHERE plan_id = ? AND image_id = ? AND method = ?`,
  ).get(planId, imageId, method) as StoredConsensus | undefined;
  return row ?? null;
}

/** The consensus as a binary mask: 255 where the probability is at least 0.5. */
export async function consensusMask(
  db: Db,
  planId: number,
  imageId: number,
  method: ConsensusMethod,
): Promise<Uint8Array> {
  const stored = getConsensus(db, planId, imageId, method);
  if (!stored) {
    throw new ApiError('not-found', `no ${method} consensus of image ${imageId} in plan ${planId}`);
  }
  const { data } = await decodeGray8(stored.probability);
  const mask = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) mask[i] = data[i] >= 128 ? 255 : 0;
  return mask;
}
