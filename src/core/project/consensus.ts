/**
 * The consensus of a plan's readers per image (team review), by STAPLE or majority vote: stored
 * in consensus_masks as a probability PNG (0..255; a vote is 0/255). core/team/consensus.ts
 * computes it; adjudication and export (`--source consensus`) read it from here, below them.
 */
import { z } from 'zod';
import { decodeGray8, encodeGray8 } from './mask-png';
import { statement, type Db } from './store';

export type ConsensusMethod = 'staple' | 'vote';

/** One reading a consensus combined, with STAPLE's figures for it (vote: null). */
export interface ConsensusReader {
  userId: number;
  revisionId: number;
  sensitivity: number | null;
  specificity: number | null;
}

const readersSchema = z.array(
  z.object({
    userId: z.number(),
    revisionId: z.number(),
    sensitivity: z.number().nullable(),
    specificity: z.number().nullable(),
  }),
);

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

/** Bytes of a probability map in 0..1 (STAPLE's W) for storage: round(p × 255). */
export function probabilityBytes(probability: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(probability.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = Math.round(Math.min(1, Math.max(0, probability[i])) * 255);
  }
  return out;
}

/** Stores (or replaces) the consensus of one image of a plan by one method. */
export async function saveConsensus(db: Db, consensus: NewConsensus): Promise<void> {
  const png = await encodeGray8(consensus.probability, consensus.width, consensus.height);
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

interface ConsensusRow {
  probability: Buffer;
  width: number;
  height: number;
  readers: string;
  createdAt: string;
}

/** The stored consensus of an image, or null when none was computed. */
export async function getConsensus(
  db: Db,
  planId: number,
  imageId: number,
  method: ConsensusMethod,
): Promise<StoredConsensus | null> {
  const row = statement(
    db,
    `SELECT probability, width, height, readers, created_at AS createdAt FROM consensus_masks
      WHERE plan_id = ? AND image_id = ? AND method = ?`,
  ).get(planId, imageId, method) as ConsensusRow | undefined;
  if (!row) return null;
  const pixels = await decodeGray8(row.probability);
  return {
    planId,
    imageId,
    method,
    probability: pixels.data,
    width: row.width,
    height: row.height,
    readers: readersSchema.parse(JSON.parse(row.readers)),
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
