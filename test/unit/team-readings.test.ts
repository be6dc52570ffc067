/**
 * Each reader's label is a lineage of its own: saving one never touches mask_revisions (the ground
 * truth and the label in force), only an assigned reader may save, and the heads list who read.
 */
import { describe, expect, it } from 'vitest';
import { currentLabel } from '../../src/core/project/masks';
import { addReading, readerHeads, readingMask } from '../../src/core/project/readings';
import { createUser } from '../../src/core/team/users';
import { projectWithImages, rectMask } from './project-fixtures';

describe('reader label lineages', () => {
  it('saves as children of the reader head, apart from the label in force', async () => {
    const gt = rectMask(32, 24, 2, 2, 10, 10);
    const { store, ids } = await projectWithImages([{ name: 'a.png', split: 'test', gt }]);
    try {
      const db = store.db;
      const ana = (await createUser(db, 'ana', 'reader')).user;
      const bo = (await createUser(db, 'bo', 'reader')).user;
      const now = new Date().toISOString();
      const plan = Number(
        db
          .prepare(`INSERT INTO reading_plans (name, selection, created_at) VALUES ('p', '{}', ?)`)
          .run(now).lastInsertRowid,
      );
      db.prepare(
        'INSERT INTO plan_assignments (plan_id, image_id, user_id, assigned_at) VALUES (?, ?, ?, ?)',
      ).run(plan, ids[0], ana.id, now);
      const labelBefore = currentLabel(db, ids[0]);
      const revisionsBefore = db.prepare('SELECT COUNT(*) AS n FROM mask_revisions').get();

      const first = await addReading(db, {
        planId: plan,
        imageId: ids[0],
        userId: ana.id,
        mask: rectMask(32, 24, 0, 0, 4, 4),
        width: 32,
        height: 24,
      });
      const second = await addReading(db, {
        planId: plan,
        imageId: ids[0],
        userId: ana.id,
        mask: new Uint8Array(32 * 24),
        width: 32,
        height: 24,
      });
      await expect(
        addReading(db, {
          planId: plan,
          imageId: ids[0],
          userId: bo.id,
          mask: gt,
          width: 32,
          height: 24,
        }),
      ).rejects.toThrow(/not assigned/);

      const heads = readerHeads(db, plan, ids[0]);
      expect(heads).toMatchObject([{ userName: 'ana', revisionId: second, area: 0 }]);
      const parent = db
        .prepare('SELECT parent_id AS p FROM reading_revisions WHERE id = ?')
        .get(second);
      expect(parent).toEqual({ p: first });
      expect((await readingMask(db, first)).filter((v) => v === 255)).toHaveLength(16);
      expect(currentLabel(db, ids[0])).toEqual(labelBefore);
      expect(db.prepare('SELECT COUNT(*) AS n FROM mask_revisions').get()).toEqual(revisionsBefore);
    } finally {
      store.close();
    }
  });
});
