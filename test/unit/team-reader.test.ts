/**
 * A reader's layer through the contract, called as the reader (Service.call with a user caller):
 * their queue, their own label with undo / redo / branch, "read, no lesion", reveal-after, a
 * refusal on images not assigned to them, and the ground truth and corrections left untouched.
 */
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { createService, type Service } from '../../src/core/service';
import { currentLabel, savePrediction } from '../../src/core/project/masks';
import { ACTIVE_MODEL_KEY } from '../../src/core/project/review';
import type { Caller } from '../../src/core/team/caller';
import { createUser } from '../../src/core/team/users';
import { foregroundOf, projectWithImages, rectMask } from './project-fixtures';

const services: Service[] = [];
afterEach(() => {
  for (const service of services.splice(0)) service.close();
});

async function pngBase64(data: Uint8Array, w = 32, h = 24): Promise<string> {
  const buffer = await sharp(Buffer.from(data), { raw: { width: w, height: h, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
  return buffer.toString('base64');
}

async function decode(body: Buffer): Promise<Uint8Array> {
  const { data } = await sharp(body)
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data);
}

async function readerProject(options: { blind: boolean; revealAfter: boolean }) {
  const gt = rectMask(32, 24, 2, 2, 10, 10);
  const fixture = await projectWithImages([
    { name: 'a.png', split: 'test', gt },
    { name: 'b.png', split: 'test', gt },
    { name: 'c.png', split: 'train', gt },
  ]);
  const db = fixture.store.db;
  const ana = (await createUser(db, 'ana', 'reader')).user;
  const bo = (await createUser(db, 'bo', 'reader')).user;
  fixture.store.setMeta(ACTIVE_MODEL_KEY, 'v1');
  const probabilities = rectMask(32, 24, 0, 0, 12, 12).map((v) => (v ? 230 : 10));
  for (const id of fixture.ids) await savePrediction(db, id, 'v1', probabilities);
  fixture.store.close();
  const service = createService({ transport: 'http', projectDir: fixture.dir });
  services.push(service);
  const plan = await service.invoke('plans.create', {
    selection: { kind: 'split', split: 'test' },
    readersPerImage: 'all',
    ...options,
  });
  const asAna: Caller = { kind: 'user', userId: ana.id, name: 'ana', role: 'reader' };
  const asBo: Caller = { kind: 'user', userId: bo.id, name: 'bo', role: 'reader' };
  return { ...fixture, service, plan, asAna, asBo, gt };
}

describe("a reader's layer", () => {
  it('queue, own lineage with undo/redo, reveal-after, negative, refusals, ground truth untouched', async () => {
    const { service, ids, asAna, asBo, plan } = await readerProject({
      blind: true,
      revealAfter: true,
    });
    const db = service.project().db;
    const labelBefore = currentLabel(db, ids[0]);
    const maskRevisions = () => db.prepare('SELECT COUNT(*) AS n FROM mask_revisions').get();
    const revisionsBefore = maskRevisions();

    let list = await service.invoke('images.list', {}, asAna);
    expect(list.queue).toEqual({ read: 0, total: 2 });
    expect(list.items.map((item) => item.id)).toEqual([ids[0], ids[1]]);
    expect(list.items[0]).toMatchObject({
      hasGroundTruth: false,
      hasPrediction: false,
      predictedArea: null,
      dice: null,
      reviewState: 'unreviewed',
    });

    let detail = await service.invoke('images.get', { id: ids[0] }, asAna);
    expect(detail).toMatchObject({
      labelRevisionId: null,
      groundTruthRevisionId: null,
      predictionRevisionId: null,
      prediction: null,
      reading: { planId: plan.id, blind: true, read: false, predictionHidden: true },
    });
    await expect(service.invoke('images.get', { id: ids[2] }, asAna)).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(
      service.invoke(
        'masks.save',
        { imageId: ids[2], png: await pngBase64(rectMask(32, 24, 0, 0, 2, 2)) },
        asAna,
      ),
    ).rejects.toMatchObject({ code: 'forbidden' });

    const first = rectMask(32, 24, 0, 0, 4, 4);
    detail = await service.invoke(
      'masks.save',
      { imageId: ids[0], png: await pngBase64(first), baseRevisionId: null },
      asAna,
    );
    const firstId = detail.labelRevisionId!;
    expect(detail).toMatchObject({
      reviewState: 'corrected',
      correctionRevisionId: firstId,
      groundTruthRevisionId: null,
      canUndo: true,
      canRedo: false,
      reading: { read: true, predictionHidden: false },
    });
    // Revealed after the first save, without the Dice against the ground truth.
    expect(detail.predictionRevisionId).not.toBeNull();
    expect(detail.prediction).toMatchObject({ dice: null });
    const own = await service.media('reading', firstId, new URLSearchParams(), asAna);
    expect(foregroundOf(await decode(own.body))).toBe(16);
    await expect(
      service.media('reading', firstId, new URLSearchParams(), asBo),
    ).rejects.toMatchObject({ code: 'forbidden' });

    const second = rectMask(32, 24, 0, 0, 6, 6);
    detail = await service.invoke(
      'masks.save',
      { imageId: ids[0], png: await pngBase64(second), baseRevisionId: firstId },
      asAna,
    );
    const secondId = detail.labelRevisionId!;
    await expect(
      service.invoke(
        'masks.save',
        { imageId: ids[0], png: await pngBase64(second), baseRevisionId: firstId },
        asAna,
      ),
    ).rejects.toMatchObject({ code: 'conflict' });
    // A mask of another size, or one that is not an image, is the request's error, saying which.
    await expect(
      service.invoke(
        'masks.save',
        { imageId: ids[0], png: await pngBase64(rectMask(24, 32, 0, 0, 2, 2), 24, 32) },
        asAna,
      ),
    ).rejects.toMatchObject({
      code: 'bad-request',
      message: `mask is 24x32, image ${ids[0]} is 32x24`,
    });
    await expect(
      service.invoke('masks.save', { imageId: ids[0], png: 'bm90IGFuIGltYWdl' }, asAna),
    ).rejects.toMatchObject({
      code: 'bad-request',
      message: expect.stringMatching(/^mask is not a readable PNG: /) as string,
    });

    detail = await service.invoke('masks.undo', { imageId: ids[0] }, asAna);
    expect(detail).toMatchObject({ labelRevisionId: firstId, canRedo: true });
    detail = await service.invoke('masks.redo', { imageId: ids[0] }, asAna);
    expect(detail.labelRevisionId).toBe(secondId);
    await service.invoke('masks.undo', { imageId: ids[0] }, asAna);
    detail = await service.invoke('masks.undo', { imageId: ids[0] }, asAna);
    expect(detail).toMatchObject({
      labelRevisionId: null,
      reviewState: 'unreviewed',
      canUndo: false,
      // Seen once, the prediction stays shown.
      reading: { read: false, predictionHidden: false },
    });
    list = await service.invoke('images.list', {}, asAna);
    expect(list.queue).toEqual({ read: 0, total: 2 });
    // A save after undo starts a branch; redo then goes to the newest child.
    detail = await service.invoke(
      'masks.save',
      { imageId: ids[0], png: await pngBase64(rectMask(32, 24, 8, 8, 9, 9)) },
      asAna,
    );
    const branch = detail.labelRevisionId!;
    expect(
      db.prepare('SELECT parent_id AS p FROM reading_revisions WHERE id = ?').get(branch),
    ).toEqual({
      p: null,
    });

    // "Read, no lesion": an empty reading through review.set or an empty save.
    await expect(
      service.invoke('review.set', { imageId: ids[0], state: 'negative' }, asAna),
    ).rejects.toMatchObject({ code: 'conflict' });
    await expect(
      service.invoke('review.set', { imageId: ids[1], state: 'accepted' }, asAna),
    ).rejects.toMatchObject({ code: 'forbidden' });
    detail = await service.invoke('review.set', { imageId: ids[1], state: 'negative' }, asAna);
    expect(detail).toMatchObject({ reviewState: 'negative', reading: { read: true } });
    list = await service.invoke('images.list', {}, asAna);
    expect(list.queue).toEqual({ read: 2, total: 2 });
    expect((await service.invoke('plans.get', { id: plan.id })).readers).toMatchObject([
      { name: 'ana', read: 2, assigned: 2 },
      { name: 'bo', read: 0, assigned: 2 },
    ]);
    // Bo's queue: unread first, and nothing of ana's.
    const boList = await service.invoke('images.list', {}, asBo);
    expect(boList.queue).toEqual({ read: 0, total: 2 });
    expect(boList.items.every((item) => item.reviewState === 'unreviewed')).toBe(true);

    // Reading never touched the ground truth or the label in force.
    expect(currentLabel(db, ids[0])).toEqual(labelBefore);
    expect(maskRevisions()).toEqual(revisionsBefore);
    expect((await service.invoke('images.get', { id: ids[0] })).reviewState).toBe('unreviewed');

    await service.invoke('plans.close', { id: plan.id });
    expect((await service.invoke('images.list', {}, asAna)).queue).toEqual({ read: 0, total: 0 });
    await expect(service.invoke('images.get', { id: ids[0] }, asAna)).rejects.toMatchObject({
      code: 'forbidden',
    });
  });

  it('in an open plan shows the ground truth; without reveal-after the prediction at once', async () => {
    const { service, ids, asAna, gt } = await readerProject({ blind: false, revealAfter: false });
    const detail = await service.invoke('images.get', { id: ids[0] }, asAna);
    expect(detail.groundTruthRevisionId).not.toBeNull();
    expect(detail.predictionRevisionId).not.toBeNull();
    expect(detail.prediction?.dice).toBeGreaterThan(0);
    const media = await service.media(
      'mask',
      detail.groundTruthRevisionId!,
      new URLSearchParams(),
      asAna,
    );
    expect(await decode(media.body)).toEqual(gt);
  });
});
