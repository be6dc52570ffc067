/**
 * Adjudication: which images enter the queue (threshold, negative/positive split, only images
 * every assigned reader has read), and a decision writes the label in force without touching the
 * ground truth or any reader's label. Real SQLite, real PNGs, the real Service for roles and media.
 */
import { describe, expect, it } from 'vitest';
import { createService } from '../../src/core/service';
import { saveConsensus } from '../../src/core/project/consensus';
import { currentLabel, getRevision, revisionMask } from '../../src/core/project/masks';
import { encodeGray8 } from '../../src/core/project/mask-png';
import { readingMask } from '../../src/core/project/readings';
import { adjudicationQueue } from '../../src/core/team/adjudication';
import type { Caller } from '../../src/core/team/caller';
import { projectWithImages, rectMask } from './project-fixtures';
import { addUsers, insertPlan, read } from './team-adjud-fixtures';

const W = 32;
const H = 24;
const empty = () => new Uint8Array(W * H);
const same = () => rectMask(W, H, 4, 4, 14, 14);

/** Four images, three readers: agreed, disputed (Dice ~0.18), split (2 empty, 1 lesion), unread. */
async function teamProject(threshold = 0.7, anonymous = false) {
  const gt = rectMask(W, H, 0, 0, 8, 8);
  const project = await projectWithImages(
    ['agree', 'dispute', 'split', 'unread'].map((name) => ({
      name: `${name}.png`,
      split: 'train' as const,
      gt,
    })),
  );
  const db = project.store.db;
  const users = await addUsers(db, [
    ['ana', 'reader'],
    ['bo', 'reader'],
    ['cy', 'reader'],
    ['dee', 'adjudicator'],
  ]);
  const readers = [users.ana, users.bo, users.cy];
  const plan = insertPlan(db, project.ids, readers, { threshold, anonymous });
  const [agree, dispute, split, unread] = project.ids;
  for (const user of readers) await read(db, plan, agree, user, same());
  await read(db, plan, dispute, users.ana, rectMask(W, H, 0, 0, 10, 10));
  await read(db, plan, dispute, users.bo, rectMask(W, H, 8, 8, 18, 18));
  await read(db, plan, dispute, users.cy, rectMask(W, H, 16, 10, 26, 20));
  await read(db, plan, split, users.ana, empty());
  await read(db, plan, split, users.bo, empty());
  await read(db, plan, split, users.cy, same());
  await read(db, plan, unread, users.ana, empty());
  await read(db, plan, unread, users.bo, same());
  return { ...project, db, users, plan, agree, dispute, split, unread, gt };
}

const adjudicator = (id: number): Caller => ({
  kind: 'user',
  userId: id,
  name: 'dee',
  role: 'adjudicator',
});

describe('adjudication queue', () => {
  it('lists images below the threshold or split, read by every assigned reader', async () => {
    const t = await teamProject(0.7);
    try {
      const queue = await adjudicationQueue(t.db);
      expect(queue.map((item) => item.imageId)).toEqual([t.dispute, t.split]);
      const [dispute, split] = queue;
      expect(dispute.meanDice).toBeLessThan(0.7);
      expect(dispute.split).toBe(false);
      expect(split).toMatchObject({ split: true, positive: 1, readers: 3 });
      // empty/empty counts as agreement (1), empty/lesion as 0: mean 1/3.
      expect(split.meanDice).toBeCloseTo(1 / 3, 6);
    } finally {
      t.store.close();
    }
  });

  it('a lower threshold keeps the split image but lets a moderate disagreement pass', async () => {
    const t = await teamProject(0.05);
    try {
      const queue = await adjudicationQueue(t.db);
      // The disputed image's mean Dice is above 0.05; the split image is queued for its split.
      expect(queue.map((item) => item.imageId)).toEqual([t.split]);
      const strict = await adjudicationQueue(t.db, { planId: t.plan });
      expect(strict).toHaveLength(1);
    } finally {
      t.store.close();
    }
  });
});

describe('adjudication decisions', () => {
  it('writes the label in force, never the ground truth or the reader labels', async () => {
    const t = await teamProject(0.7, true);
    t.store.close();
    const service = createService({ transport: 'http', projectDir: t.dir });
    try {
      const db = service.project().db;
      const caller = adjudicator(t.users.dee);
      const view = await service.invoke(
        'adjudication.get',
        { planId: t.plan, imageId: t.dispute },
        caller,
      );
      expect(view.anonymous).toBe(true);
      expect(view.readers.map((reader) => reader.name)).toEqual([
        'Reader 1',
        'Reader 2',
        'Reader 3',
      ]);
      expect(view.consensus).toEqual([]);
      const readingsBefore = db
        .prepare('SELECT id, png FROM reading_revisions ORDER BY id')
        .all() as { id: number; png: Buffer }[];
      const truthBefore = getRevision(db, currentLabel(db, t.dispute)!.id);

      // Take reader 2 (bo's label).
      const decision = await service.invoke(
        'adjudication.decide',
        {
          planId: t.plan,
          imageId: t.dispute,
          basis: { kind: 'reader', revisionId: view.readers[1].revisionId },
        },
        caller,
      );
      expect(decision).toMatchObject({ basis: 'reader:bo', decidedBy: 'dee' });
      const label = currentLabel(db, t.dispute)!;
      expect(label).toMatchObject({
        id: decision.revisionId,
        source: 'correction',
        author: 'adjudicated by dee',
      });
      expect(await revisionMask(db, label.id)).toEqual(
        await readingMask(db, view.readers[1].revisionId),
      );
      expect(
        db.prepare('SELECT ground_truth_id AS id FROM images WHERE id = ?').get(t.dispute),
      ).toEqual({ id: truthBefore.id });
      expect(await revisionMask(db, truthBefore.id)).toEqual(t.gt);
      expect(db.prepare('SELECT id, png FROM reading_revisions ORDER BY id').all()).toEqual(
        readingsBefore,
      );
      expect(
        db
          .prepare('SELECT user_id AS userId, basis, revision_id AS revisionId FROM adjudications')
          .all(),
      ).toEqual([{ userId: t.users.dee, basis: 'reader:bo', revisionId: label.id }]);
      // Decided: out of the queue unless asked for.
      expect(
        (await service.invoke('adjudication.queue', {}, caller)).map((i) => i.imageId),
      ).toEqual([t.split]);
      const all = await service.invoke('adjudication.queue', { includeDecided: true }, caller);
      expect(all.find((item) => item.imageId === t.dispute)?.decision?.basis).toBe('reader:bo');

      // From a stored consensus, then an edited mask: each becomes the label in force.
      const probability = new Uint8Array(W * H);
      probability.set(rectMask(W, H, 6, 6, 12, 12).map((v) => (v ? 200 : 60)));
      await saveConsensus(db, {
        planId: t.plan,
        imageId: t.split,
        method: 'staple',
        probability,
        width: W,
        height: H,
        readers: [],
      });
      expect(
        (await service.invoke('adjudication.get', { planId: t.plan, imageId: t.split }, caller))
          .consensus,
      ).toEqual(['staple']);
      await service.invoke(
        'adjudication.decide',
        { planId: t.plan, imageId: t.split, basis: { kind: 'consensus', method: 'staple' } },
        caller,
      );
      expect(await revisionMask(db, currentLabel(db, t.split)!.id)).toEqual(
        rectMask(W, H, 6, 6, 12, 12),
      );
      const drawn = rectMask(W, H, 1, 1, 3, 3);
      const edited = await service.invoke(
        'adjudication.decide',
        {
          planId: t.plan,
          imageId: t.split,
          basis: { kind: 'edited', png: (await encodeGray8(drawn, W, H)).toString('base64') },
        },
        caller,
      );
      expect(edited.basis).toBe('edited');
      expect(await revisionMask(db, currentLabel(db, t.split)!.id)).toEqual(drawn);
      expect(db.prepare('SELECT id, png FROM reading_revisions ORDER BY id').all()).toEqual(
        readingsBefore,
      );
    } finally {
      service.close();
    }
  });

  it('refuses readers, a label that is not a reader head, and a consensus not computed', async () => {
    const t = await teamProject();
    t.store.close();
    const service = createService({ transport: 'http', projectDir: t.dir });
    try {
      const reader: Caller = { kind: 'user', userId: t.users.ana, name: 'ana', role: 'reader' };
      await expect(service.invoke('adjudication.queue', {}, reader)).rejects.toMatchObject({
        code: 'forbidden',
      });
      await expect(
        service.invoke('adjudication.get', { planId: t.plan, imageId: t.dispute }, reader),
      ).rejects.toMatchObject({ code: 'forbidden' });
      const view = await service.invoke('adjudication.get', { planId: t.plan, imageId: t.dispute });
      // The owner sees names (the plan is not anonymous).
      expect(view.readers.map((r) => r.name)).toEqual(['ana', 'bo', 'cy']);
      // ana may see her own reading (the blind rule), never bo's.
      await expect(
        service.media('reading', view.readers[1].revisionId, new URLSearchParams(), reader),
      ).rejects.toMatchObject({ code: 'forbidden' });
      await expect(
        service.media('consensus', t.dispute, new URLSearchParams('plan=1&method=staple'), reader),
      ).rejects.toMatchObject({ code: 'forbidden' });
      const media = await service.media(
        'reading',
        view.readers[0].revisionId,
        new URLSearchParams(),
        adjudicator(t.users.dee),
      );
      expect(media.contentType).toBe('image/png');
      const splitView = await service.invoke('adjudication.get', {
        planId: t.plan,
        imageId: t.split,
      });
      await expect(
        service.invoke('adjudication.decide', {
          planId: t.plan,
          imageId: t.dispute,
          basis: { kind: 'reader', revisionId: splitView.readers[0].revisionId },
        }),
      ).rejects.toMatchObject({ code: 'conflict' });
      await expect(
        service.invoke('adjudication.decide', {
          planId: t.plan,
          imageId: t.dispute,
          basis: { kind: 'consensus', method: 'vote' },
        }),
      ).rejects.toMatchObject({ code: 'not-found' });
      const edited = async (mask: Uint8Array, w: number, h: number) => ({
        kind: 'edited' as const,
        png: (await encodeGray8(mask, w, h)).toString('base64'),
      });
      await expect(
        service.invoke('adjudication.decide', {
          planId: t.plan,
          imageId: t.dispute,
          basis: await edited(rectMask(H, W, 0, 0, 4, 4), H, W),
        }),
      ).rejects.toMatchObject({
        code: 'bad-request',
        message: `mask is ${H}x${W}, image ${t.dispute} is ${W}x${H}`,
      });
      await expect(
        service.invoke('adjudication.decide', {
          planId: t.plan,
          imageId: t.dispute,
          basis: { kind: 'edited', png: 'bm90IGFuIGltYWdl' },
        }),
      ).rejects.toMatchObject({
        code: 'bad-request',
        message: expect.stringMatching(/^mask is not a readable PNG: /) as string,
      });
      expect(service.project().db.prepare('SELECT COUNT(*) AS n FROM adjudications').get()).toEqual(
        {
          n: 0,
        },
      );
    } finally {
      service.close();
    }
  });
});
