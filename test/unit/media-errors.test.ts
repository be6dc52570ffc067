/**
 * An image whose file fails to decode is marked where the reviewer looks: images.list and
 * images.get carry the reason (`mediaError`) after a media request failed, and the file's path so
 * the failure can say where to look; a request that decodes the file again clears the mark.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createService, type Service } from '../../src/core/service';
import { projectWithImages } from './project-fixtures';

const services: Service[] = [];
afterEach(() => {
  for (const service of services.splice(0)) service.close();
});

describe('media errors', () => {
  it('images.list and images.get name a file that failed to decode, until it decodes again', async () => {
    const fixture = await projectWithImages([
      { name: 'a.png', split: 'train' },
      { name: 'b.png', split: 'train' },
    ]);
    fixture.store.close();
    const service = createService({ transport: 'http', projectDir: fixture.dir });
    services.push(service);
    const [good, broken] = fixture.ids;
    const detail = await service.invoke('images.get', { id: broken });
    expect(detail.file).toBeDefined();
    expect(path.isAbsolute(detail.file!)).toBe(true);
    expect(detail.mediaError ?? null).toBeNull();
    const original = fs.readFileSync(detail.file!);

    fs.writeFileSync(detail.file!, 'not an image any more');
    await expect(service.media('image', broken, new URLSearchParams())).rejects.toThrow(
      /cannot be decoded/,
    );
    const after = await service.invoke('images.get', { id: broken });
    expect(after.mediaError).toMatch(/cannot be decoded/);
    const page = await service.invoke('images.list', { offset: 0, limit: 10 });
    const marks = new Map(page.items.map((item) => [item.id, item.mediaError ?? null]));
    expect(marks.get(broken)).toMatch(/cannot be decoded/);
    expect(marks.get(good)).toBeNull();

    fs.writeFileSync(detail.file!, original);
    await service.media('image', broken, new URLSearchParams());
    expect((await service.invoke('images.get', { id: broken })).mediaError).toBeNull();
  });
});
