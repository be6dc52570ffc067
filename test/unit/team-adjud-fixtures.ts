/**
 * Fixtures of the team review tests: users, a reading plan inserted with SQL (until the plan
 * functions exist on this branch) and readings saved through the real addReading.
 */
import { addReading } from '../../src/core/project/readings';
import type { Db } from '../../src/core/project/store';
import { createUser } from '../../src/core/team/users';
import type { Role } from '../../src/shared/team-schemas';

export async function addUsers(db: Db, users: [string, Role][]): Promise<Record<string, number>> {
  const ids: Record<string, number> = {};
  for (const [name, role] of users) ids[name] = (await createUser(db, name, role)).user.id;
  return ids;
}

/** A plan assigning every image to every given reader. */
export function insertPlan(
  db: Db,
  imageIds: number[],
  readerIds: number[],
  options: { threshold?: number; anonymous?: boolean; name?: string } = {},
): number {
  const now = new Date().toISOString();
  const plan = Number(
    db
      .prepare(
        `INSERT INTO reading_plans (name, selection, anonymous_readers, disagreement_threshold, created_at)
         VALUES (?, '{"all":true}', ?, ?, ?)`,
      )
      .run(options.name ?? 'plan', options.anonymous ? 1 : 0, options.threshold ?? 0.7, now)
      .lastInsertRowid,
  );
  const assign = db.prepare(
    'INSERT INTO plan_assignments (plan_id, image_id, user_id, assigned_at) VALUES (?, ?, ?, ?)',
  );
  for (const imageId of imageIds)
    for (const user of readerIds) assign.run(plan, imageId, user, now);
  return plan;
}

export function read(
  db: Db,
  planId: number,
  imageId: number,
  userId: number,
  mask: Uint8Array,
  w = 32,
  h = 24,
): Promise<number> {
  return addReading(db, { planId, imageId, userId, mask, width: w, height: h });
}
