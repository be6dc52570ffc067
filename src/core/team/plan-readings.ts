/**
 * What agreement and consensus read of a reading plan: the plan itself (by id, or the latest
 * active one) and, per image, who was assigned it and each reader's label in force (their head).
 */
import { ApiError } from '../../shared/contract';
import { readerHeads, readingMask, type ReaderHead } from '../project/readings';
import { statement, type Db } from '../project/store';

export interface PlanInfo {
  id: number;
  name: string;
  anonymousReaders: boolean;
  threshold: number;
  status: string;
}

/** The plan `planId`, or without it the latest active plan; not-found when there is none. */
export function findPlan(db: Db, planId?: number): PlanInfo {
  const row = statement(
    db,
    planId === undefined
      ? `SELECT id, name, anonymous_readers AS anonymous, disagreement_threshold AS threshold, status
           FROM reading_plans WHERE status = 'active' ORDER BY id DESC LIMIT 1`
      : `SELECT id, name, anonymous_readers AS anonymous, disagreement_threshold AS threshold, status
           FROM reading_plans WHERE id = ?`,
  ).get(...(planId === undefined ? [] : [planId])) as
    { id: number; name: string; anonymous: number; threshold: number; status: string } | undefined;
  if (!row) {
    throw new ApiError(
      'not-found',
      planId === undefined ? 'there is no active reading plan' : `no reading plan ${planId}`,
    );
  }
  return {
    id: row.id,
    name: row.name,
    anonymousReaders: row.anonymous !== 0,
    threshold: row.threshold,
    status: row.status,
  };
}

export interface PlanImage {
  imageId: number;
  name: string;
  assigned: number;
}

/** The plan's images in the worklist's name order, with how many readers each was assigned. */
export function planImages(db: Db, planId: number): PlanImage[] {
  return statement(
    db,
    `SELECT a.image_id AS imageId, i.name, COUNT(*) AS assigned
       FROM plan_assignments a JOIN images i ON i.id = a.image_id
      WHERE a.plan_id = ?
      GROUP BY a.image_id
      ORDER BY i.name_key, i.id`,
  ).all(planId) as PlanImage[];
}

export interface PlanReader {
  userId: number;
  name: string;
  assigned: number;
}

/** Every reader assigned an image of the plan, in the order they were added to the team. */
export function planReaders(db: Db, planId: number): PlanReader[] {
  return statement(
    db,
    `SELECT a.user_id AS userId, u.name, COUNT(*) AS assigned
       FROM plan_assignments a JOIN users u ON u.id = a.user_id
      WHERE a.plan_id = ?
      GROUP BY a.user_id
      ORDER BY a.user_id`,
  ).all(planId) as PlanReader[];
}

export interface Reading extends ReaderHead {
  /** One byte per pixel, 0/255. */
  mask: Uint8Array;
}

/**
 * The readings in force of one image, with their pixels. Readings whose size differs from the
 * first are left out and named in `mismatched` (a reader never saves such a label; kept safe).
 */
export async function imageReadings(
  db: Db,
  planId: number,
  imageId: number,
): Promise<{ readings: Reading[]; mismatched: string[] }> {
  const readings: Reading[] = [];
  const mismatched: string[] = [];
  for (const head of readerHeads(db, planId, imageId)) {
    const first = readings[0];
    if (first && (head.width !== first.width || head.height !== first.height)) {
      mismatched.push(head.userName);
      continue;
    }
    readings.push({ ...head, mask: await readingMask(db, head.revisionId) });
  }
  return { readings, mismatched };
}

/** Lets other work run between images (decoding is async, figures are not). */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
