/**
 * masks.save without baseRevisionId, many at once on one image: each acknowledged save reports the
 * revision it made. The old handler read the image after the Dice refresh awaited, so a save
 * that landed meanwhile gave its revision id to two saves (15 of 9,924 over HTTP).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeGray8 } from '../../src/core/project/mask-png';
import { listRevisions, savePrediction } from '../../src/core/project/masks';
import { ACTIVE_MODEL_KEY } from '../../src/core/project/review';
import { Service } from '../../src/core/service';
import { projectWithImages, rectMask } from './project-fixtures';

const W = 32;
const H = 24;
const SAVES = 24;
const services: Service[] = [];
afterEach(() => {
  for (const service of services.splice(0)) service.close();
});

describe('concurrent mask saves', () => {
  it('each save reports its own revision', async () => {
    const { store, ids, dir } = await projectWithImages(
      [{ name: 'a.png', split: 'train', gt: rectMask(W, H, 0, 0, 10, 10) }],
      W,
      H,
    );
    const imageId = ids[0];
    // A prediction to refresh makes every save await between its commit and its answer.
    await savePrediction(store.db, imageId, 'v1', rectMask(W, H, 4, 4, 20, 20));
    store.setMeta(ACTIVE_MODEL_KEY, 'v1');
    store.close();
    const service = new Service({ transport: 'http', projectDir: dir });
    services.push(service);
    const masks = await Promise.all(
      Array.from({ length: SAVES }, (_, i) =>
        encodeGray8(rectMask(W, H, 0, 0, 1 + (i % W), 1 + (i % H)), W, H),
      ),
    );
    const details = await Promise.all(
      masks.map((png) => service.invoke('masks.save', { imageId, png: png.toString('base64') })),
    );
    const reported = details.map((detail) => detail.correctionRevisionId);
    expect(new Set(reported).size).toBe(SAVES);
    const made = listRevisions(service.project().db, imageId)
      .filter((revision) => revision.source === 'correction')
      .map((revision) => revision.id);
    expect([...reported].sort((a, b) => a! - b!)).toEqual([...made].sort((a, b) => a - b));
  });
});
