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
  /** When a number: refuse ('conflict') unless it is the reader's head (an edit on a stale label). */
  baseRevisionId?: number | null;
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
    if (
      typeof reading.baseRevisionId === 'number' &&
      reading.baseRevisionId !== assignment.headId
    ) {
      throw new ApiError(
        'conflict',
        `your label of image ${reading.imageId} changed since this edit began (another window or an undo); reload it`,
      );
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

/** A reader's assignment of an image in a plan: their head and when they first saved. */
export interface ReaderAssignment {
  planId: number;
  imageId: number;
  userId: number;
  headId: number | null;
  firstSavedAt: string | null;
}

export function readerAssignment(
  db: Db,
  planId: number,
  imageId: number,
  userId: number,
): ReaderAssignment | null {
  const row = statement(
    db,
    `SELECT plan_id AS planId, image_id AS imageId, user_id AS userId, head_id AS headId,
            first_saved_at AS firstSavedAt
       FROM plan_assignments WHERE plan_id = ? AND image_id = ? AND user_id = ?`,
  ).get(planId, imageId, userId) as ReaderAssignment | undefined;
  return row ?? null;
}

function newestReadingChild(
  db: Db,
  assignment: ReaderAssignment,
  parentId: number | null,
): number | null {
  const row = statement(
    db,
    `SELECT id FROM reading_revisions
      WHERE plan_id = ? AND image_id = ? AND user_id = ? AND parent_id IS ?
      ORDER BY id DESC LIMIT 1`,
  ).get(assignment.planId, assignment.imageId, assignment.userId, parentId) as
    { id: number } | undefined;
  return row?.id ?? null;
}

function moveReaderHead(db: Db, assignment: ReaderAssignment, head: number | null): void {
  statement(
    db,
    'UPDATE plan_assignments SET head_id = ? WHERE plan_id = ? AND image_id = ? AND user_id = ?',
  ).run(head, assignment.planId, assignment.imageId, assignment.userId);
}

function assignmentOrForbidden(
  db: Db,
  planId: number,
  imageId: number,
  userId: number,
): ReaderAssignment {
  const assignment = readerAssignment(db, planId, imageId, userId);
  if (!assignment)
    throw new ApiError('forbidden', `image ${imageId} is not assigned to this reader`);
  return assignment;
}

/**
 * Moves the reader's head to its parent (undoing the first save leaves them no label: the image
 * is unread again, though its first save stays recorded for reveal-after). As corrections' undo:
 * false when there is nothing to undo.
 */
export function undoReading(db: Db, planId: number, imageId: number, userId: number): boolean {
  return db.transaction(() => {
    const assignment = assignmentOrForbidden(db, planId, imageId, userId);
    if (assignment.headId === null) return false;
    const head = statement(
      db,
      'SELECT parent_id AS parentId FROM reading_revisions WHERE id = ?',
    ).get(assignment.headId) as { parentId: number | null };
    moveReaderHead(db, assignment, head.parentId);
    return true;
  })();
}

/** Moves the reader's head to its newest child; false when there is nothing to redo. */
export function redoReading(db: Db, planId: number, imageId: number, userId: number): boolean {
  return db.transaction(() => {
    const assignment = assignmentOrForbidden(db, planId, imageId, userId);
    const child = newestReadingChild(db, assignment, assignment.headId);
    if (child === null) return false;
    moveReaderHead(db, assignment, child);
    return true;
  })();
}

export function canRedoReading(db: Db, assignment: ReaderAssignment): boolean {
  return newestReadingChild(db, assignment, assignment.headId) !== null;
}

/** A reading revision's owner and PNG (media), or null. */
export function readingRevision(
  db: Db,
  revisionId: number,
): { planId: number; imageId: number; userId: number; png: Buffer; area: number } | null {
  const row = statement(
    db,
    `SELECT plan_id AS planId, image_id AS imageId, user_id AS userId, png, area
       FROM reading_revisions WHERE id = ?`,
  ).get(revisionId) as
    { planId: number; imageId: number; userId: number; png: Buffer; area: number } | undefined;
  return row ?? null;
}
