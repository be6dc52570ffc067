/**
 * The audit trail: who did what, and when. Service.call records a row after each audited method
 * succeeds (saves, review states, plan changes, promotions, exports, imports, training, user
 * changes), from the table below: a new method is audited by adding one entry, saying how to find
 * the image it touched and what else to keep. Reads are not audited.
 */
import type { MethodName } from '../../shared/contract';
import type { AuditEntry } from '../../shared/contract-team-auth';
import { statement, type Db } from '../project/store';
import type { Caller } from './caller';
import { callerName } from './caller';
import { findUserByName } from './users';

interface AuditRule {
  /** The image the action touched, if it touched one. */
  imageId?: (input: never, output: never) => number | null | undefined;
  /** What to keep beside who and when (small JSON); default: the input when it is small. */
  detail?: (input: never, output: never) => unknown;
}

const byImage = {
  imageId: (input: { imageId: number }) => input.imageId,
  detail: () => null,
};
/** Jobs: the job's id (its own record says how it ended). */
const job = { detail: (input: unknown, output: { id: string }) => ({ input, job: output.id }) };
const userSecrets = {
  // Never the password or token in the answer.
  detail: (input: unknown, output: { user: { name: string; role: string } }) => ({
    user: output.user.name,
    role: output.user.role,
  }),
};

/**
 * The audited methods. Other team helpers add their own (plan changes, reader saves, adjudication)
 * here; a contract method missing from this table is simply not audited.
 */
export const auditedMethods: Partial<Record<MethodName | (string & {}), AuditRule>> = {
  'masks.save': {
    imageId: (input: { imageId: number }) => input.imageId,
    detail: (_input: unknown, output: { labelRevisionId?: number | null }) => ({
      revision: output.labelRevisionId ?? null,
    }),
  },
  'masks.undo': byImage,
  'masks.redo': byImage,
  'review.set': {
    imageId: (input: { imageId: number }) => input.imageId,
    detail: (input: { state?: string; comment?: string }) => ({
      state: input.state ?? null,
      comment: input.comment !== undefined,
    }),
  },
  'models.promote': {},
  'models.rollback': { detail: (_input: unknown, output: unknown) => output },
  'export.start': job,
  'export.setSegmentLabel': {},
  'models.exportOnnx': {},
  'dataset.import': job,
  'train.start': job,
  'train.resume': job,
  'predict.start': {
    detail: (input: { model?: string; imageIds?: number[] }, output: { id: string }) => ({
      model: input.model ?? null,
      images: input.imageIds?.length ?? 'all',
      job: output.id,
    }),
  },
  'changes.start': job,
  'models.add': {},
  'predictions.import': job,
  'pacs.add': {
    // The connection's name and address, never its secret.
    detail: (_input: unknown, output: { name?: string; url?: string }) => ({
      name: output.name ?? null,
      url: output.url ?? null,
    }),
  },
  'pacs.remove': {},
  'pacs.allow': {},
  'pacs.retrieve': job,
  'pacs.send': job,
  'users.add': userSecrets,
  'users.reset': userSecrets,
  'users.disable': {},
};

const SMALL_DETAIL = 2000;

function defaultDetail(input: unknown): unknown {
  const text = JSON.stringify(input ?? null);
  return text.length <= SMALL_DETAIL ? (input ?? null) : { size: text.length };
}

/** Records a successful audited call; other methods are ignored. */
export function recordAudit(
  db: Db,
  caller: Caller,
  method: string,
  input: unknown,
  output: unknown,
  now = new Date(),
): void {
  const rule = auditedMethods[method];
  if (!rule) return;
  const imageId = (rule.imageId as ((i: unknown, o: unknown) => number | null) | undefined)?.(
    input,
    output,
  );
  const detail = rule.detail
    ? (rule.detail as (i: unknown, o: unknown) => unknown)(input, output)
    : defaultDetail(input);
  statement(
    db,
    `INSERT INTO audit_log (at, user_id, user_name, action, image_id, detail)
     VALUES (?, ?, ?, ?, ?, ?)`,
  ).run(
    now.toISOString(),
    caller.kind === 'user' ? caller.userId : null,
    callerName(caller),
    method,
    imageId ?? null,
    detail === null || detail === undefined ? null : JSON.stringify(detail),
  );
}

interface AuditRow {
  id: number;
  at: string;
  user_id: number | null;
  user_name: string;
  action: string;
  image_id: number | null;
  detail: string | null;
}

/**
 * The trail, newest first. `user` is a team member's name, or 'owner' for what the project's
 * owner did; an unknown name lists nothing.
 */
export function listAudit(
  db: Db,
  options: { user?: string; before?: number; limit?: number } = {},
): AuditEntry[] {
  const where: string[] = [];
  const args: unknown[] = [];
  if (options.user !== undefined) {
    const user = findUserByName(db, options.user);
    if (user) {
      where.push('user_id = ?');
      args.push(user.id);
    } else if (options.user === 'owner') {
      where.push('user_id IS NULL');
    } else {
      return [];
    }
  }
  if (options.before !== undefined) {
    where.push('id < ?');
    args.push(options.before);
  }
  const rows = statement(
    db,
    `SELECT id, at, user_id, user_name, action, image_id, detail FROM audit_log
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
  ).all(...args, options.limit ?? 1000) as AuditRow[];
  return rows.map((row) => ({
    id: row.id,
    at: row.at,
    userId: row.user_id,
    userName: row.user_name,
    action: row.action,
    imageId: row.image_id,
    detail: row.detail === null ? null : (JSON.parse(row.detail) as unknown),
  }));
}
