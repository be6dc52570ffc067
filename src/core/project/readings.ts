/**
 * Each reader's own label lineage in a reading plan (team review): revisions in
 * reading_revisions, the reader's head in plan_assignments.head_id. Kept apart from
 * mask_revisions so that reading never changes the ground truth, the corrections or the label in
 * force; export and training reach a reader's label only when asked for it (`reader:NAME`).
 */
import { ApiError } from '../../shared/contract';
import { countForeground, decodeBinaryMask, encodeGray8 } from './mask-png';
import { statement, type Db } from './store';

export interface ReaderHead {
  userId: number;
  userName: string;
  revisionId: number;
  /** Foreground pixels of the reader's label (0: they read it and found no lesion). */
  area: number;
  width: number;
  height: number;
  savedAt: string;
}

export interface NewReading {
  planId: number;
  imageId: number;
  userId: number;
  /** One byte per pixel; > 0 is lesion. */
  mask: Uint8Array;
  width: number;
  height: number;
}

/**
 * Saves a reader's label as a child of their head and moves the head to it, in one transaction.
 * The reader must be assigned the image in the plan.
 */
export async function addReading(db: Db, reading: NewReading): Promise<number> {
  const binary = new Uint8Array(reading.mask.length);
  for (let i = 0; i < binary.length; i++) binary[i] = reading.mask[i] > 0 ? 255 : 0;
  const png = await encodeGray8(binary, reading.width, reading.height);
  const area = countForeground(binary);
  return db.transaction(() => {
    const assignment = statement(
      db,
      'SELECT head_id AS headId FROM plan_assignments WHERE plan_id = ? AND image_id = ? AND user_id = ?',
    ).get(reading.planId, reading.imageId, reading.userId) as { headId: number | null } | undefined;
    if (!assignment) {
      throw new ApiError('forbidden', `image ${reading.imageId} is not assigned to this reader`);
    }
    const now = new Date().toISOString();
    const id = Number(
      statement(
        db,
        `INSERT INTO reading_revisions
           (plan_id, image_id, user_id, parent_id, created_at, png, width, height, area)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        reading.planId,
        reading.imageId,
        reading.userId,
        assignment.headId,
        now,
        png,
        reading.width,
        reading.height,
        area,
      ).lastInsertRowid,
    );
    statement(
      db,
      `UPDATE plan_assignments SET head_id = ?, first_saved_at = COALESCE(first_saved_at, ?)
       WHERE plan_id = ? AND image_id = ? AND user_id = ?`,
    ).run(id, now, reading.planId, reading.imageId, reading.userId);
    return id;
  })();
}

/** The readers of an image in a plan who have a label in force, in user-name order. */
export function readerHeads(db: Db, planId: number, imageId: number): ReaderHead[] {
  return statement(
    db,
    `SELECT a.user_id AS userId, u.name AS userName, r.id AS revisionId, r.area, r.width,
            r.height, r.created_at AS savedAt
       FROM plan_assignments a
       JOIN reading_revisions r ON r.id = a.head_id
       JOIN users u ON u.id = a.user_id
      WHERE a.plan_id = ? AND a.image_id = ?
      ORDER BY u.name`,
  ).all(planId, imageId) as ReaderHead[];
}

/** The stored PNG (8-bit gray 0/255) of a reader's revision. */
export function readingPng(db: Db, revisionId: number): Buffer {
  const row = statement(db, 'SELECT png FROM reading_revisions WHERE id = ?').get(revisionId) as
    { png: Buffer } | undefined;
  if (!row) throw new ApiError('not-found', `no reading revision ${revisionId}`);
  return row.png;
}

/** Pixels (0/255) of a reader's revision. */
export async function readingMask(db: Db, revisionId: number): Promise<Uint8Array> {
  return (await decodeBinaryMask(readingPng(db, revisionId))).data;
}
