/**
 * masks.save never inflates a client's PNG without limits: the header's size is read first and a
 * mask of another size than its image is refused before any pixel data is inflated; image data
 * that inflates past the size its header declares is refused too (the inflate is capped).
 */
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { listRevisions } from '../../src/core/project/masks';
import { Service } from '../../src/core/service';
import { pngBomb, pngWith } from '../faults/png-bombs';
import { projectWithImages } from './project-fixtures';

const W = 32;
const H = 24;
const services: Service[] = [];
afterEach(() => {
  for (const service of services.splice(0)) service.close();
});

async function service() {
  const { store, ids } = await projectWithImages([{ name: 'a.png', split: 'train' }], W, H);
  const dir = store.dir;
  store.close();
  const api = new Service({ transport: 'http', projectDir: dir });
  services.push(api);
  return { api, imageId: ids[0] };
}

/** Rows of a W x H gray mask (filter byte 0 each), all foreground. */
function rows(): Buffer {
  const raw = Buffer.alloc((W + 1) * H, 255);
  for (let y = 0; y < H; y++) raw[y * (W + 1)] = 0;
  return raw;
}

describe('masks.save limits', () => {
  it('refuses a mask whose header claims another size than the image, before inflating it', async () => {
    const { api, imageId } = await service();
    // 380 bytes that claim 2147483647 x 2147483647, and a real bomb of 4000 x 4000.
    const liar = pngWith(2147483647, 2147483647, zlib.deflateSync(Buffer.alloc(300)));
    const bomb = await pngBomb(4000, 4000);
    for (const png of [liar, bomb]) {
      await expect(
        api.invoke('masks.save', { imageId, png: png.toString('base64') }),
      ).rejects.toMatchObject({
        code: 'bad-request',
        message: expect.stringMatching(/^mask is \d+x\d+, image \d+ is 32x24$/) as unknown,
      });
    }
    expect(listRevisions(api.project().db, imageId)).toHaveLength(0);
  });

  it('refuses image data that inflates past the size the header declares', async () => {
    const { api, imageId } = await service();
    const padded = pngWith(W, H, zlib.deflateSync(Buffer.concat([rows(), Buffer.alloc(8 << 20)])));
    await expect(
      api.invoke('masks.save', { imageId, png: padded.toString('base64') }),
    ).rejects.toMatchObject({
      code: 'bad-request',
      message: expect.stringMatching(/image data is longer than its 32x24 size/) as unknown,
    });
    // The same rows without the excess save.
    const exact = pngWith(W, H, zlib.deflateSync(rows()));
    const detail = await api.invoke('masks.save', { imageId, png: exact.toString('base64') });
    expect(detail.correctionRevisionId).not.toBeNull();
  });
});
