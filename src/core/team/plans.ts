/**
 * Reading plans (team review): which images the team reads, how many readers per image, blind or
 * open, reveal-after, anonymous readers, the disagreement threshold; each plan's assignments and
 * its progress. The tables are migration 10's reading_plans and plan_assignments.
 *
 * Readers are the enabled users of role 'reader'. Adjudicators do not read in a plan: they decide
 * the images the readers disagree on.
 */
import { ApiError } from '../../shared/contract';
import type { ImageFilter } from '../../shared/contract-review';
import {
  planCreateInputSchema,
  planSelectionSchema,
  type PlanCreateInput,
  type PlanDetail,
  type PlanReaderProgress,
  type PlanSelection,
  type PlanSummary,
} from '../../shared/contract-team-plans';
import { listImages } from '../project/images';
import { statement, type Db } from '../project/store';
import { callerName, type Caller } from './caller';

const PAGE = 100_000;

function selectionFilter(selection: PlanSelection): ImageFilter {
  if (selection.kind === 'split') return { split: selection.split };
  if (selection.kind === 'filter') return selection.filter;
  return {};
}

/** The selected images' ids in worklist name order. */
export function selectedImageIds(
  db: Db,
  selection: PlanSelection,
  activeModel: string | null,
): number[] {
  const filter = selectionFilter(selection);
  const ids: number[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = listImages(db, { offset, limit: PAGE, sort: 'name', filter }, activeModel);
    ids.push(...page.items.map((item) => item.id));
    if (page.items.length < PAGE || ids.length >= page.total) return ids;
  }
}

/** The team's readers: enabled users of role 'reader', in id order. */
export function teamReaders(db: Db): { id: number; name: string }[] {
  return statement(
    db,
    `SELECT id, name FROM users WHERE role = 'reader' AND disabled_at IS NULL ORDER BY id`,
  ).all() as { id: number; name: string }[];
}

/**
 * Who reads which image: with `perImage` null every reader reads every image; else each image in
 * turn goes to the `perImage` readers with the fewest images so far (ties: the reader who waited
 * longest since their last image, then id). Deterministic, and every reader's load stays within 1
 * of every other's: loads are always m or m+1, and taking the K least loaded keeps them so.
 */
export function balancedAssignment(
  imageIds: readonly number[],
  readerIds: readonly number[],
  perImage: number | null,
): Map<number, number[]> {
  const assignment = new Map<number, number[]>();
  if (perImage === null) {
    for (const image of imageIds) assignment.set(image, [...readerIds]);
    return assignment;
  }
  if (perImage > readerIds.length) {
    throw new ApiError(
      'bad-request',
      `${perImage} readers per image, but the team has ${readerIds.length} reader${readerIds.length === 1 ? '' : 's'}`,
    );
  }
  const load = new Map(readerIds.map((id) => [id, 0]));
  const lastTurn = new Map(readerIds.map((id) => [id, -1]));
  imageIds.forEach((image, turn) => {
    const chosen = [...readerIds]
      .sort((a, b) => load.get(a)! - load.get(b)! || lastTurn.get(a)! - lastTurn.get(b)! || a - b)
      .slice(0, perImage);
    for (const reader of chosen) {
      load.set(reader, load.get(reader)! + 1);
      lastTurn.set(reader, turn);
    }
    assignment.set(
      image,
      chosen.sort((a, b) => a - b),
    );
  });
  return assignment;
}

interface PlanRow {
  id: number;
  name: string;
  selection: string;
  readersPerImage: number | null;
  blind: number;
  revealAfter: number;
  anonymousReaders: number;
  disagreementThreshold: number;
  status: 'active' | 'closed';
  createdBy: string | null;
  createdAt: string;
}

const PLAN_SELECT = `SELECT p.id, p.name, p.selection, p.readers_per_image AS readersPerImage,
    p.blind, p.reveal_after AS revealAfter, p.anonymous_readers AS anonymousReaders,
    p.disagreement_threshold AS disagreementThreshold, p.status, u.name AS createdBy,
    p.created_at AS createdAt
  FROM reading_plans p LEFT JOIN users u ON u.id = p.created_by`;

/** A plan's own settings (what the blind rule reads). */
export interface PlanSettings {
  id: number;
  blind: boolean;
  revealAfter: boolean;
  anonymousReaders: boolean;
  status: 'active' | 'closed';
}

function summary(db: Db, row: PlanRow): PlanSummary {
  const counts = statement(
    db,
    `SELECT COUNT(DISTINCT image_id) AS images, COUNT(*) AS assignments,
            COALESCE(SUM(head_id IS NOT NULL), 0) AS read
       FROM plan_assignments WHERE plan_id = ?`,
  ).get(row.id) as { images: number; assignments: number; read: number };
  return {
    id: row.id,
    name: row.name,
    selection: planSelectionSchema.parse(JSON.parse(row.selection)),
    readersPerImage: row.readersPerImage,
    blind: row.blind === 1,
    revealAfter: row.revealAfter === 1,
    anonymousReaders: row.anonymousReaders === 1,
    disagreementThreshold: row.disagreementThreshold,
    status: row.status,
    createdBy: row.createdBy ?? 'owner',
    createdAt: row.createdAt,
    ...counts,
  };
}

function planRow(db: Db, id: number): PlanRow {
  const row = statement(db, `${PLAN_SELECT} WHERE p.id = ?`).get(id) as PlanRow | undefined;
  if (!row) throw new ApiError('not-found', `no reading plan ${id}`);
  return row;
}

export function planSettings(db: Db, id: number): PlanSettings {
  const row = planRow(db, id);
  return {
    id: row.id,
    blind: row.blind === 1,
    revealAfter: row.revealAfter === 1,
    anonymousReaders: row.anonymousReaders === 1,
    status: row.status,
  };
}

export function getPlan(db: Db, id: number): PlanDetail {
  const row = planRow(db, id);
  const readers = statement(
    db,
    `SELECT a.user_id AS userId, u.name, COUNT(*) AS assigned,
            COALESCE(SUM(a.head_id IS NOT NULL), 0) AS read
       FROM plan_assignments a JOIN users u ON u.id = a.user_id
      WHERE a.plan_id = ? GROUP BY a.user_id ORDER BY u.name`,
  ).all(id) as PlanReaderProgress[];
  const imageIds = (
    statement(
      db,
      'SELECT DISTINCT image_id AS id FROM plan_assignments WHERE plan_id = ? ORDER BY image_id',
    ).all(id) as { id: number }[]
  ).map((image) => image.id);
  return { ...summary(db, row), readers, imageIds };
}

export function listPlans(db: Db): PlanSummary[] {
  return (statement(db, `${PLAN_SELECT} ORDER BY p.id DESC`).all() as PlanRow[]).map((row) =>
    summary(db, row),
  );
}

/** Creates a plan and its assignments in one transaction. */
export function createPlan(
  db: Db,
  input: PlanCreateInput,
  caller: Caller,
  activeModel: string | null,
): PlanDetail {
  const plan = planCreateInputSchema.parse(input);
  const readers = teamReaders(db);
  if (readers.length === 0) {
    throw new ApiError('conflict', 'the team has no readers: add users with the role reader first');
  }
  const imageIds = selectedImageIds(db, plan.selection, activeModel);
  if (imageIds.length === 0) throw new ApiError('bad-request', 'the selection has no images');
  const perImage = plan.readersPerImage === 'all' ? null : plan.readersPerImage;
  const assignment = balancedAssignment(
    imageIds,
    readers.map((reader) => reader.id),
    perImage,
  );
  const id = db.transaction(() => {
    const now = new Date().toISOString();
    const count = (statement(db, 'SELECT COUNT(*) AS n FROM reading_plans').get() as { n: number })
      .n;
    const planId = Number(
      statement(
        db,
        `INSERT INTO reading_plans (name, selection, readers_per_image, blind, reveal_after,
           anonymous_readers, disagreement_threshold, status, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)`,
      ).run(
        plan.name ?? `Plan ${count + 1}`,
        JSON.stringify(plan.selection),
        perImage,
        plan.blind ? 1 : 0,
        plan.revealAfter ? 1 : 0,
        plan.anonymousReaders ? 1 : 0,
        plan.disagreementThreshold,
        caller.kind === 'user' ? caller.userId : null,
        now,
      ).lastInsertRowid,
    );
    const insert = statement(
      db,
      'INSERT INTO plan_assignments (plan_id, image_id, user_id, assigned_at) VALUES (?, ?, ?, ?)',
    );
    for (const [imageId, readerIds] of assignment) {
      for (const readerId of readerIds) insert.run(planId, imageId, readerId, now);
    }
    recordTeamAudit(db, caller, 'plan.create', { detail: { planId } });
    return planId;
  })();
  return getPlan(db, id);
}

export function closePlan(db: Db, id: number, caller: Caller): PlanDetail {
  db.transaction(() => {
    planRow(db, id);
    statement(db, `UPDATE reading_plans SET status = 'closed' WHERE id = ?`).run(id);
    recordTeamAudit(db, caller, 'plan.close', { detail: { planId: id } });
  })();
  return getPlan(db, id);
}

/** A team action in the audit trail (who and when): plan changes, readers' saves. */
export function recordTeamAudit(
  db: Db,
  caller: Caller,
  action: string,
  what: { imageId?: number; detail?: Record<string, unknown> } = {},
): void {
  statement(
    db,
    `INSERT INTO audit_log (at, user_id, user_name, action, image_id, detail)
     VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(
    new Date().toISOString(),
    caller.kind === 'user' ? caller.userId : null,
    callerName(caller),
    action,
    what.imageId ?? null,
    what.detail ? JSON.stringify(what.detail) : null,
  );
}
