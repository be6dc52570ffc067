/**
 * Media URLs with odd query values (a stranger's or a stale page's) are answered, never a 500.
 */
import { describe, expect, it } from 'vitest';
import { createService } from '../../src/core/service';
import { projectWithImages } from './project-fixtures';

describe('media query values', () => {
  it.each(['300.7', '-5', '1e9', 'NaN', 'Infinity', '%E0', ''])(
    'serves a thumbnail for size=%s',
    async (size) => {
      const { dir, store, ids } = await projectWithImages([{ name: 'a.png', split: 'train' }]);
      store.close();
      const service = createService({ transport: 'http', projectDir: dir });
      try {
        const media = await service.media('thumbnail', ids[0], new URLSearchParams(`size=${size}`));
        expect(media.contentType).toMatch(/^image\//);
        expect(media.body.length).toBeGreaterThan(0);
      } finally {
        service.close();
      }
    },
  );
});
