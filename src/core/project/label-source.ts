/**
 * Which label of an image training, evaluation and export use (`--source`, team review):
 * - final: the label in force (the correction head, else the ground truth): what an adjudication
 *   writes, and every project's label before team review;
 * - consensus[:staple|vote]: the stored consensus of the newest plan that has one for the image
 *   (STAPLE before vote when no method is named), as a mask (probability >= 0.5);
 * - reader:NAME: that reader's head in the newest plan where they have read the image.
 *
 * Below ml and export, so both resolve labels the same way. Reads only (the ML worker calls it
 * on its read-only connection).
 */
import { ApiError } from '../../shared/contract';
import {
  formatLabelSource,
  parseLabelSource,
  type LabelSourceSpec,
} from '../../shared/label-source-schemas';
import { consensusMask, type ConsensusMethod } from './consensus';
import type { Split } from '../../shared/contract-review';
import { imageAbsolutePath } from './images';
import { revisionMask, trainingPairs, type TrainingPair, type TrainingPairQuery } from './masks';
import { readingMask } from './readings';
import { statement, type Db } from './store';

export type { LabelSourceSpec };

/** One image's label under a source other than `final`. */
export interface ResolvedLabel {
  kind: 'consensus' | 'reader';
  imageId: number;
  planId: number;
  /** reader: their reading revision; consensus: null. */
  readingRevisionId: number | null;
  method: ConsensusMethod | null;
  /** Who or what made the label (a DICOM SEG's Content Creator's Name). */
  author: string;
  /** A short phrase for manifests and SEG descriptions: "reader ana, plan 2". */
  description: string;
  /** Identifies the label for the card's label-set hash. */
  key: string;
}

/** Parses a source from the contract or the CLI; absent is `final`. */
export function labelSourceOf(text: string | null | undefined): LabelSourceSpec {
  if (text === null || text === undefined || text === '') return { kind: 'final' };
  const spec = parseLabelSource(text);
  if (!spec) {
    throw new ApiError(
      'bad-request',
      `label source ${JSON.stringify(text)}: use final, consensus, consensus:staple, consensus:vote or reader:NAME`,
    );
  }
  return spec;
}

function hasConsensusTable(db: Db): boolean {
  const row = statement(
    db,
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'consensus_masks'",
  ).get();
  return row !== undefined;
}

/** Refuses a source that names no reader of the project (before any work starts). */
export function assertLabelSource(db: Db, spec: LabelSourceSpec): void {
  if (spec.kind !== 'reader') return;
  const user = statement(db, 'SELECT 1 FROM users WHERE name = ?').get(spec.name);
  if (!user) throw new ApiError('bad-request', `no user named ${spec.name} in this project`);
}

/**
 * The label of an image under a source other than `final`, or the reason it has none. (`final`
 * is the label in force: callers keep using the mask revision they already know.)
 */
export function resolveLabel(
  db: Db,
  imageId: number,
  spec: Exclude<LabelSourceSpec, { kind: 'final' }>,
): ResolvedLabel | { reason: string } {
  if (spec.kind === 'reader') {
    const row = statement(
      db,
      `SELECT a.plan_id AS planId, a.head_id AS headId, u.name AS name
         FROM plan_assignments a JOIN users u ON u.id = a.user_id
        WHERE a.image_id = ? AND u.name = ? AND a.head_id IS NOT NULL
        ORDER BY a.plan_id DESC LIMIT 1`,
    ).get(imageId, spec.name) as { planId: number; headId: number; name: string } | undefined;
    if (!row) return { reason: `not read by ${spec.name}` };
    return {
      kind: 'reader',
      imageId,
      planId: row.planId,
      readingRevisionId: row.headId,
      method: null,
      author: row.name,
      description: `reader ${row.name}, plan ${row.planId}`,
      key: `reading:${row.headId}`,
    };
  }
  const methods: ConsensusMethod[] = spec.method ? [spec.method] : ['staple', 'vote'];
  const rows = hasConsensusTable(db)
    ? (statement(
        db,
        `SELECT plan_id AS planId, method, created_at AS createdAt FROM consensus_masks
          WHERE image_id = ? ORDER BY plan_id DESC`,
      ).all(imageId) as { planId: number; method: ConsensusMethod; createdAt: string }[])
    : [];
  const newestPlan = rows.find((row) => methods.includes(row.method))?.planId;
  const chosen = methods
    .map((method) => rows.find((row) => row.planId === newestPlan && row.method === method))
    .find((row) => row !== undefined);
  if (!chosen) return { reason: `no ${formatLabelSource(spec)} computed` };
  const name = chosen.method === 'staple' ? 'STAPLE' : 'majority vote';
  return {
    kind: 'consensus',
    imageId,
    planId: chosen.planId,
    readingRevisionId: null,
    method: chosen.method,
    author: `${name} consensus`,
    description: `${name} consensus, plan ${chosen.planId}`,
    key: `consensus:${chosen.planId}:${chosen.method}:${chosen.createdAt}`,
  };
}

/** The 0/255 pixels of a resolved label. */
export async function resolvedLabelMask(db: Db, label: ResolvedLabel): Promise<Uint8Array> {
  if (label.kind === 'reader') return readingMask(db, label.readingRevisionId!);
  const mask = await consensusMask(db, label.planId, label.imageId, label.method!);
  if (!mask) {
    throw new ApiError('not-found', `the consensus of image ${label.imageId} is no longer stored`);
  }
  return mask;
}

/** The pixels of a pair's label: its resolved label, else the mask revision in force. */
export function labelPixels(
  db: Db,
  pair: { label?: { kind: string } | null; labelRevisionId: number },
): Promise<Uint8Array> {
  return pair.label
    ? resolvedLabelMask(db, pair.label as ResolvedLabel)
    : revisionMask(db, pair.labelRevisionId);
}

/**
 * Image/label pairs of a source: `final` is trainingPairs (the label sets apply); another source
 * pairs every present image of the splits that has a label of that source (flagged images left
 * out unless asked for).
 */
export function labelSourcePairs(
  db: Db,
  query: TrainingPairQuery,
  spec: LabelSourceSpec,
): TrainingPair[] {
  if (spec.kind === 'final') return trainingPairs(db, query);
  if (query.splits.length === 0) return [];
  const rows = statement(
    db,
    `SELECT i.id AS imageId, d.root AS datasetRoot, i.rel_path AS relPath, i.split, i.width,
         i.height, i.review_state AS reviewState
       FROM images i JOIN datasets d ON d.id = i.dataset_id
       WHERE i.status != 'missing' AND i.split IN (${query.splits.map(() => '?').join(', ')})
       ORDER BY i.id`,
  ).all(...query.splits) as {
    imageId: number;
    datasetRoot: string;
    relPath: string;
    split: Split;
    width: number;
    height: number;
    reviewState: string;
  }[];
  const pairs: TrainingPair[] = [];
  for (const row of rows) {
    if (row.reviewState === 'flagged' && !query.includeFlagged) continue;
    const label = resolveLabel(db, row.imageId, spec);
    if ('reason' in label) continue;
    pairs.push({
      imageId: row.imageId,
      imagePath: imageAbsolutePath(row),
      relPath: row.relPath,
      split: row.split,
      width: row.width,
      height: row.height,
      labelRevisionId: label.readingRevisionId ?? label.planId,
      labelSource: label.kind,
      label,
    });
  }
  return pairs;
}
