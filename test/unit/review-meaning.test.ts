/**
 * The clinical meaning of a review, guarded by the host: what the header counts, a negative image
 * never keeps a lesion, undo back to the ground truth restores the review state.
 */
import { afterEach, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { createService, type Service } from '../../src/core/service';
import { projectWithImages, rectMask } from './project-fixtures';

const services: Service[] = [];
afterEach(() => {
  for (const service of services.splice(0)) service.close();
});

async function serviceWith(...args: Parameters<typeof projectWithImages>) {
  const fixture = await projectWithImages(...args);
  fixture.store.close();
  const service = createService({ transport: 'http', projectDir: fixture.dir });
  services.push(service);
  return { ...fixture, service };
}

async function pngBase64(data: Uint8Array, w: number, h: number): Promise<string> {
  const buffer = await sharp(Buffer.from(data), { raw: { width: w, height: h, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
  return buffer.toString('base64');
}

describe('project header counts', () => {
  it('counts images, labelled images and finished models, not stored revisions', async () => {
    const gt = rectMask(32, 24, 2, 2, 10, 10);
    const { service, ids } = await serviceWith([
      { name: 'a.png', split: 'train', gt },
      { name: 'b.png', split: 'train', gt },
      { name: 'c.png', split: 'test' },
    ]);
    // Three corrections of one image: more revisions, not more labelled images.
    for (let i = 0; i < 3; i++) {
      await service.invoke('masks.save', {
        imageId: ids[0],
        png: await pngBase64(rectMask(32, 24, 0, 0, 4 + i, 4), 32, 24),
      });
    }
    // A correction of an image without ground truth labels it.
    await service.invoke('masks.save', {
      imageId: ids[2],
      png: await pngBase64(rectMask(32, 24, 0, 0, 4, 4), 32, 24),
    });
    const state = await service.invoke('project.state');
    expect(state).toMatchObject({ imageCount: 3, labelledCount: 3, modelCount: 0 });
  });
});
