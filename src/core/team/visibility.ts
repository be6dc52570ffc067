/**
 * The blind rule: what a team reader may see. Enforced here, in core, for every method (through
 * Service.call) and every media URL (through the media resolvers), never by the UI.
 *
 * - A reader calls only the reading methods (READER_METHODS); anything else is 'forbidden'. Their
 *   worklist is their queue, their label layer their own reading (core/team/reader-review.ts).
 * - An image is visible to a reader only while it is assigned to them in an active plan.
 * - In a blind plan they never see the ground truth, the corrections, the image's review state or
 *   comment, other readers' labels, or figures measured against any of those (Dice, agreement).
 *   In an open plan they see the ground truth and corrections too (never another reader's label:
 *   no reading method carries one).
 * - With reveal-after, the model's prediction (and its figures) only after their first save of
 *   the image (an undo afterwards does not hide it again: it has been seen).
 *
 * Everyone else (the owner, adjudicators, researchers, admins) sees everything; which methods
 * their role may call is the role table's business, not this file's.
 */
import { methodRoles } from './permissions';
import {
  ApiError,
  type EventName,
  type EventPayload,
  type MethodName,
  type ProjectState,
} from '../../shared/contract';
import { findRevision } from '../project/masks';
import { readingRevision } from '../project/readings';
import { statement, type Db } from '../project/store';
import type { Caller } from './caller';

export type ReaderCaller = Extract<Caller, { kind: 'user' }>;

export function isReader(caller: Caller): caller is ReaderCaller {
  return caller.kind === 'user' && caller.role === 'reader';
}

/**
 * The methods a reader may call (the reader column of core/team/permissions.ts); each of them
 * answers as the blind rule says.
 */
export const READER_METHODS: ReadonlySet<MethodName> = new Set<MethodName>(
  (Object.keys(methodRoles) as MethodName[]).filter((method) =>
    methodRoles[method].includes('reader'),
  ),
);

/** Refuses ('forbidden') a method a reader may not call; everyone else passes. */
export function assertMayCall(caller: Caller, method: MethodName): void {
  if (isReader(caller) && !READER_METHODS.has(method)) {
    throw new ApiError('forbidden', `${method} is not available to a reader`);
  }
}

/** What a method's output becomes for the caller (the project's counts are not a reader's). */
export function redactOutput(caller: Caller, method: MethodName, output: unknown): unknown {
  // Jobs can carry evaluation figures and other readers' work.
  if (isReader(caller) && method === 'jobs.list') return [];
  if (!isReader(caller) || method !== 'project.state' || output === null) return output;
  return readerProjectState(output as ProjectState);
}

/** The project's state as a reader sees it (project.state and the project.changed event). */
function readerProjectState(state: ProjectState): ProjectState {
  // How many images carry a label in force, where the dataset lives: not a reader's business.
  return { ...state, projectDir: null, datasetRoot: null, labelledCount: 0, modelCount: 0 };
}

/** A reader's view of one image: their assignment in the newest active plan that has it. */
export interface ReaderImageView {
  planId: number;
  imageId: number;
  userId: number;
  blind: boolean;
  revealAfter: boolean;
  headId: number | null;
  firstSavedAt: string | null;
  /** The model's prediction and its figures (not against the ground truth). */
  seesPrediction: boolean;
  /** The ground truth, corrections, the image's review state and comment. */
  seesProjectLabels: boolean;
}

interface ViewRow {
  planId: number;
  imageId: number;
  blind: number;
  revealAfter: number;
  headId: number | null;
  firstSavedAt: string | null;
}

const VIEW_SELECT = `SELECT a.plan_id AS planId, a.image_id AS imageId, p.blind,
    p.reveal_after AS revealAfter, a.head_id AS headId, a.first_saved_at AS firstSavedAt
  FROM plan_assignments a JOIN reading_plans p ON p.id = a.plan_id AND p.status = 'active'`;

function toView(row: ViewRow, userId: number): ReaderImageView {
  const blind = row.blind === 1;
  const revealAfter = row.revealAfter === 1;
  return {
    planId: row.planId,
    imageId: row.imageId,
    userId,
    blind,
    revealAfter,
    headId: row.headId,
    firstSavedAt: row.firstSavedAt,
    seesPrediction: !revealAfter || row.firstSavedAt !== null,
    seesProjectLabels: !blind,
  };
}

/** The reader's view of an image, or null when no active plan assigns it to them. */
export function findReaderView(
  db: Db,
  reader: ReaderCaller,
  imageId: number,
): ReaderImageView | null {
  const row = statement(
    db,
    `${VIEW_SELECT} WHERE a.user_id = ? AND a.image_id = ? ORDER BY a.plan_id DESC LIMIT 1`,
  ).get(reader.userId, imageId) as ViewRow | undefined;
  return row ? toView(row, reader.userId) : null;
}

/** As findReaderView, refusing ('forbidden') an image not assigned to the reader. */
export function readerView(db: Db, reader: ReaderCaller, imageId: number): ReaderImageView {
  const view = findReaderView(db, reader, imageId);
  if (!view) {
    throw new ApiError('forbidden', `image ${imageId} is not in your reading queue`);
  }
  return view;
}

/** Every image of the reader's queue (newest active plan per image), unread first, then name. */
export function readerQueue(db: Db, reader: ReaderCaller): ReaderImageView[] {
  const rows = statement(
    db,
    `${VIEW_SELECT} JOIN images i ON i.id = a.image_id
      WHERE a.user_id = ?
        AND a.plan_id = (SELECT MAX(b.plan_id) FROM plan_assignments b
                           JOIN reading_plans q ON q.id = b.plan_id AND q.status = 'active'
                          WHERE b.user_id = a.user_id AND b.image_id = a.image_id)
      ORDER BY a.head_id IS NOT NULL, i.name_key, i.id`,
  ).all(reader.userId) as ViewRow[];
  return rows.map((row) => toView(row, reader.userId));
}

/** Refuses ('forbidden') an image (pixels, thumbnail, display) the caller may not see. */
export function assertImageVisible(db: Db, caller: Caller, imageId: number): void {
  if (isReader(caller)) readerView(db, caller, imageId);
}

/**
 * Refuses ('forbidden') a stored mask revision the caller may not see. A reader sees a
 * prediction of an image in their queue once revealed, and the ground truth and corrections only
 * in an open plan.
 */
export function assertMaskVisible(db: Db, caller: Caller, revisionId: number): void {
  if (!isReader(caller)) return;
  const revision = findRevision(db, revisionId);
  const view = revision ? findReaderView(db, caller, revision.imageId) : null;
  const visible =
    view !== null &&
    (revision!.source === 'prediction' ? view.seesPrediction : view.seesProjectLabels);
  if (!visible) throw new ApiError('forbidden', `mask revision ${revisionId} is not yours to see`);
}

/** Refuses ('forbidden') a reader's revision of someone else (a reader sees only their own). */
export function assertReadingVisible(db: Db, caller: Caller, revisionId: number): void {
  if (!isReader(caller)) return;
  const revision = readingRevision(db, revisionId);
  if (!revision || revision.userId !== caller.userId) {
    throw new ApiError('forbidden', `reading revision ${revisionId} is not yours to see`);
  }
}

/** What the host knows of an event when it sends it to each event socket. */
export interface EventContext {
  /** Who made the request that caused it; null: the host itself (a job, the worker, a start). */
  origin: Caller | null;
  /** The open project's database (null when none is open). */
  db: Db | null;
}

type EventRule<E extends EventName> = (
  reader: ReaderCaller,
  payload: EventPayload<E>,
  context: EventContext,
) => EventPayload<E> | null;

/**
 * The blind rule on the event socket: for every event, what a reader hears of it (the payload, a
 * redacted one, or null: nothing). A reader hears no more than their methods tell them: a
 * Record over every event, so a new event is refused to compile until it has a rule here.
 */
export const readerEventRules: { readonly [E in EventName]: EventRule<E> } = {
  // worker.status is every role's method.
  'worker.status': (_reader, payload) => payload,
  // As project.state answers a reader.
  'project.changed': (_reader, payload) => readerProjectState(payload),
  // jobs.list is empty for a reader (a job carries evaluation figures and other people's work),
  // and no method a reader may call starts one.
  'job.updated': () => null,
  // models.list and the model count are not a reader's.
  'models.changed': () => null,
  'images.changed': readerImagesChanged,
  // Only their own end of session; who else was disabled is users.list's (admins').
  'team.sessionsEnded': (reader, payload) => (payload.userId === reader.userId ? payload : null),
};

/**
 * images.changed for a reader: their own request's change as it is; nothing of another reader's
 * (a reading is never anyone else's to see); of anyone else's change (the owner, an adjudicator,
 * the host's jobs), only the images of their queue whose changed part they see through
 * images.get: a prediction once revealed, a correction or review state in an open plan. A change
 * naming no image (an import, a batch of predictions, a plan created or closed: their queue may
 * have changed) reaches them without names.
 */
function readerImagesChanged(
  reader: ReaderCaller,
  payload: EventPayload<'images.changed'>,
  context: EventContext,
): EventPayload<'images.changed'> | null {
  const { origin } = context;
  if (origin && isReader(origin)) return origin.userId === reader.userId ? payload : null;
  if (!payload.imageIds) return { reason: payload.reason };
  const db = context.db;
  if (!db) return null;
  const imageIds = payload.imageIds.filter((imageId) => {
    const view = findReaderView(db, reader, imageId);
    if (!view) return false;
    if (payload.reason === 'prediction') return view.seesPrediction;
    if (payload.reason === 'import') return true;
    return view.seesProjectLabels;
  });
  return imageIds.length > 0 ? { reason: payload.reason, imageIds } : null;
}

/**
 * What one event socket's caller hears of an event: the payload, a redacted one, or null
 * (nothing). The owner hears everything; a reader what readerEventRules says; the other roles
 * what their methods show them: everything but the end of other users' sessions, which only an
 * admin (users.list) hears of.
 */
export function eventFor<E extends EventName>(
  caller: Caller,
  event: E,
  payload: EventPayload<E>,
  context: EventContext,
): EventPayload<E> | null {
  if (caller.kind === 'owner') return payload;
  if (caller.role === 'reader') {
    return (readerEventRules[event] as EventRule<E>)(caller, payload, context);
  }
  if (event === 'team.sessionsEnded' && caller.role !== 'admin') {
    const { userId } = payload as EventPayload<'team.sessionsEnded'>;
    return userId === caller.userId ? payload : null;
  }
  return payload;
}
