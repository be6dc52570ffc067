/**
 * A reading plan seeded through the real functions (createUser, addReading): three readers
 * (ana, bo, cy) on four 32x24 images whose figures are known by hand (test/unit/team-agreement):
 *   img-1: ana and cy a 10x10 square, bo its top half      (Dice 2/3, 2/3, 1)
 *   img-2: all three empty                                 (three both-empty pairs, Dice 1)
 *   img-3: ana the square, bo and cy empty                 (a negative/positive split)
 *   img-4: only ana has read it (the square)
 * Plans are inserted with SQL until team-read's plan functions exist.
 */
import { addReading } from '../../src/core/project/readings';
import type { Db } from '../../src/core/project/store';
import { createUser } from '../../src/core/team/users';
import { projectWithImages, rectMask } from './project-fixtures';

export const W = 32;
export const H = 24;
export const square = (w = W, h = H) => rectMask(w, h, 0, 0, 10, 10);
export const topHalf = (w = W, h = H) => rectMask(w, h, 0, 0, 10, 5);
export const empty = (w = W, h = H) => new Uint8Array(w * h);

/** The plan over `imageIds` (four images of w x h, default 32x24). */
export async function seedPlan(
  db: Db,
  imageIds: number[],
  options: { anonymous?: boolean; width?: number; height?: number } = {},
) {
  const w = options.width ?? W;
  const h = options.height ?? H;
  const readers = [];
  for (const name of ['ana', 'bo', 'cy']) readers.push((await createUser(db, name, 'reader')).user);
  const now = new Date().toISOString();
  const planId = Number(
    db
      .prepare(
        `INSERT INTO reading_plans (name, selection, anonymous_readers, created_at)
         VALUES ('first read', '{"all":true}', ?, ?)`,
      )
      .run(options.anonymous ? 1 : 0, now).lastInsertRowid,
  );
  const assign = db.prepare(
    'INSERT INTO plan_assignments (plan_id, image_id, user_id, assigned_at) VALUES (?, ?, ?, ?)',
  );
  for (const imageId of imageIds)
    for (const reader of readers) assign.run(planId, imageId, reader.id, now);
  const [ana, bo, cy] = readers;
  const labels: [number, { id: number }, Uint8Array][] = [
    [imageIds[0], ana, square(w, h)],
    [imageIds[0], bo, topHalf(w, h)],
    [imageIds[0], cy, square(w, h)],
    [imageIds[1], ana, empty(w, h)],
    [imageIds[1], bo, empty(w, h)],
    [imageIds[1], cy, empty(w, h)],
    [imageIds[2], ana, square(w, h)],
    [imageIds[2], bo, empty(w, h)],
    [imageIds[2], cy, empty(w, h)],
    [imageIds[3], ana, square(w, h)],
  ];
  for (const [imageId, reader, mask] of labels) {
    await addReading(db, { planId, imageId, userId: reader.id, mask, width: w, height: h });
  }
  return { planId, ana, bo, cy };
}

/** A project of four images with the plan above. */
export async function projectWithPlan(options: { anonymous?: boolean } = {}) {
  const project = await projectWithImages(
    ['img-1.png', 'img-2.png', 'img-3.png', 'img-4.png'].map((name) => ({
      name,
      split: 'test' as const,
    })),
    W,
    H,
  );
  const plan = await seedPlan(project.store.db, project.ids, options);
  return { ...project, ...plan };
}
