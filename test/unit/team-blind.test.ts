/**
 * The blind rule, walked over the whole contract: in a blind plan where reader B saved a
 * distinctive label and the owner corrected, flagged and commented an image, reader A calls every
 * method and fetches every media id that exists. No answer carries B's revisions, name or figures,
 * the ground truth's or the corrections' revision ids, the image's state or comment, or a Dice
 * against the ground truth; every method a reader may not call is refused ('forbidden').
 */
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { apiErrorCode, methodNames, type MediaKind } from '../../src/shared/contract';
import { createService, type Service } from '../../src/core/service';
import { savePrediction } from '../../src/core/project/masks';
import { ACTIVE_MODEL_KEY } from '../../src/core/project/review';
import type { Caller } from '../../src/core/team/caller';
import { createUser } from '../../src/core/team/users';
import { READER_METHODS } from '../../src/core/team/visibility';
import { projectWithImages, rectMask } from './project-fixtures';

const services: Service[] = [];
afterEach(() => {
  for (const service of services.splice(0)) service.close();
});

async function pngBase64(data: Uint8Array): Promise<string> {
  const buffer = await sharp(Buffer.from(data), { raw: { width: 32, height: 24, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
  return buffer.toString('base64');
}

/** Every number found under a key naming a revision, anywhere in a value. */
function revisionNumbers(value: unknown, out: number[] = [], key = ''): number[] {
  if (typeof value === 'number' && /revision/i.test(key)) out.push(value);
  else if (Array.isArray(value)) for (const item of value) revisionNumbers(item, out, key);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) revisionNumbers(v, out, k);
  }
  return out;
}

describe('the blind rule over every method and media kind', () => {
  it("never shows reader A another reader's label, the ground truth, states or figures", async () => {
    const gt = rectMask(32, 24, 2, 2, 10, 10);
    const fixture = await projectWithImages([
      { name: 'a.png', split: 'test', gt },
      { name: 'b.png', split: 'test', gt },
      { name: 'c.png', split: 'train', gt },
    ]);
    let db = fixture.store.db;
    const ana = (await createUser(db, 'ana', 'reader')).user;
    const zorblax = (await createUser(db, 'zorblax', 'reader')).user;
    fixture.store.setMeta(ACTIVE_MODEL_KEY, 'v1');
    const probabilities = rectMask(32, 24, 0, 0, 12, 12).map((v) => (v ? 230 : 10));
    for (const id of fixture.ids) await savePrediction(db, id, 'v1', probabilities);
    fixture.store.close();
    const service = createService({ transport: 'http', projectDir: fixture.dir });
    services.push(service);
    db = service.project().db;
    const ids = fixture.ids;
    const asA: Caller = { kind: 'user', userId: ana.id, name: 'ana', role: 'reader' };
    const asB: Caller = { kind: 'user', userId: zorblax.id, name: 'zorblax', role: 'reader' };

    // The owner corrects, flags and comments image a.
    await service.invoke('masks.save', {
      imageId: ids[0],
      png: await pngBase64(rectMask(32, 24, 3, 3, 11, 13)),
      author: 'owner-corrector',
    });
    await service.invoke('review.set', {
      imageId: ids[0],
      state: 'flagged',
      comment: 'owner-secret-comment',
    });
    const ownerView = await service.invoke('images.get', { id: ids[0] });
    const secretDice = ownerView.prediction!.dice!;
    const plan = await service.invoke('plans.create', {
      selection: { kind: 'split', split: 'test' },
      blind: true,
    });

    // B's revisions get ids no other number here has; B's label has a distinctive area (37).
    db.prepare(
      `INSERT INTO reading_revisions (id, plan_id, image_id, user_id, parent_id, created_at, png,
         width, height, area) VALUES (900000, ?, ?, ?, NULL, '2026-01-01', x'00', 32, 24, 0)`,
    ).run(plan.id, ids[0], zorblax.id);
    const distinctive = new Uint8Array(32 * 24);
    distinctive.fill(255, 0, 37);
    const bRevisions: number[] = [];
    for (const imageId of [ids[0], ids[1]]) {
      const saved = await service.invoke(
        'masks.save',
        { imageId, png: await pngBase64(distinctive) },
        asB,
      );
      bRevisions.push(saved.labelRevisionId!);
    }
    expect(Math.min(...bRevisions)).toBeGreaterThan(900000);
    const groundTruthAndCorrections = (
      db.prepare(`SELECT id FROM mask_revisions WHERE source != 'prediction'`).all() as {
        id: number;
      }[]
    ).map((row) => row.id);

    // Reader A's calls: every method a reader may call, with inputs touching every image.
    const png = await pngBase64(rectMask(32, 24, 20, 20, 24, 24));
    const readerInputs: Record<string, unknown[]> = {
      'app.info': [{}],
      'auth.me': [{}],
      'jobs.list': [{}],
      'worker.status': [{}],
      'project.state': [{}],
      'images.list': [{}, { sort: 'dice' }, { filter: { state: 'flagged' } }, { limit: 1 }],
      'images.get': ids.map((id) => ({ id })),
      'images.facets': [{}],
      'images.display': ids.map((imageId) => ({ imageId })),
      'masks.save': ids.map((imageId) => ({ imageId, png })),
      'masks.undo': ids.map((imageId) => ({ imageId })),
      'masks.redo': ids.map((imageId) => ({ imageId })),
      'review.set': ids.map((imageId) => ({ imageId, state: 'negative' })),
    };
    expect(Object.keys(readerInputs).sort()).toEqual([...READER_METHODS].sort());
    const outputs: unknown[] = [];
    const allowedRefusals = new Set(['forbidden', 'conflict']);
    for (const method of methodNames) {
      const inputs = readerInputs[method];
      if (!inputs) {
        const refused = await service.call(method, {}, asA).then(
          () => null,
          (error: unknown) => apiErrorCode(error),
        );
        expect(refused, method).toBe('forbidden');
        continue;
      }
      for (const input of inputs) {
        try {
          outputs.push(await service.call(method, input, asA));
        } catch (error) {
          expect(
            allowedRefusals.has(apiErrorCode(error) ?? 'none'),
            `${method} ${String(error)}`,
          ).toBe(true);
        }
      }
    }
    // Every call to an assigned image answered (17, and auth.me, jobs.list and worker.status):
    // only image c and the conflicts refused.
    expect(outputs.length).toBe(20);
    const text = JSON.stringify(outputs);
    for (const secret of ['zorblax', 'owner-secret-comment', 'owner-corrector', 'flagged']) {
      expect(text).not.toContain(secret);
    }
    for (const id of bRevisions) expect(text).not.toContain(String(id));
    expect(text).not.toContain(String(secretDice));
    const seenRevisions = revisionNumbers(outputs);
    for (const id of [...bRevisions, ...groundTruthAndCorrections]) {
      expect(seenRevisions).not.toContain(id);
    }
    for (const value of outputs.flatMap((output) => revisionNumbers(output, [], ''))) {
      expect(value).not.toBe(37);
    }

    // Every media id that exists, as A: only A's own readings, A's images and their predictions.
    const every = (sql: string) => (db.prepare(sql).all() as { id: number }[]).map((r) => r.id);
    const ownReadings = new Set(
      every(`SELECT id FROM reading_revisions WHERE user_id = ${ana.id}`),
    );
    const visiblePredictions = new Set(
      every(
        `SELECT id FROM mask_revisions WHERE source = 'prediction' AND image_id IN (${ids[0]}, ${ids[1]})`,
      ),
    );
    const cases: [MediaKind, number[], (id: number) => boolean][] = [
      ['image', [...ids, 999], (id) => id === ids[0] || id === ids[1]],
      ['thumbnail', [...ids, 999], (id) => id === ids[0] || id === ids[1]],
      [
        'mask',
        [...every('SELECT id FROM mask_revisions'), 999],
        (id) => visiblePredictions.has(id),
      ],
      ['reading', [...every('SELECT id FROM reading_revisions'), 999], (id) => ownReadings.has(id)],
    ];
    expect(ownReadings.size).toBeGreaterThan(0);
    for (const [kind, mediaIds, allowed] of cases) {
      for (const id of mediaIds) {
        const result = await service.media(kind, id, new URLSearchParams(), asA).then(
          () => 'served',
          (error: unknown) => apiErrorCode(error),
        );
        expect(result, `${kind} ${id}`).toBe(allowed(id) ? 'served' : 'forbidden');
      }
    }
    // B's label is still B's, unchanged by A's walk, and the owner sees it.
    const bHead = db
      .prepare('SELECT head_id AS h FROM plan_assignments WHERE user_id = ? AND image_id = ?')
      .get(zorblax.id, ids[0]) as { h: number };
    expect(bHead.h).toBe(bRevisions[0]);
    const owner = await service.media('reading', bRevisions[0], new URLSearchParams());
    expect(owner.contentType).toBe('image/png');
  });
});
