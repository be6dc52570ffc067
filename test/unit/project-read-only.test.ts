/**
 * A project opened read-only (a network folder, `--read-only`, a reader beside a writer): every
 * read works, every write is refused with the reason ('read-only', 409), nothing is written in its folder.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/shared/contract';
import { createService } from '../../src/core/service';
import { ProjectStore } from '../../src/core/project/store';
import { projectWithImages } from './project-fixtures';

describe('a read-only project', () => {
  it('reads, refuses writes with the reason, and leaves the folder as it was', async () => {
    const { dir, store, ids } = await projectWithImages([{ name: 'a.png', split: 'train' }]);
    store.close();
    const before = fs.readdirSync(dir).sort();
    const service = createService({
      transport: 'http',
      projectDir: dir,
      projectReadOnly: 'it is on a network filesystem (nfs4)',
      projectInMemory: true,
    });
    try {
      const state = await service.invoke('project.state');
      expect(state.readOnly).toBe('it is on a network filesystem (nfs4)');
      expect(state.imageCount).toBe(1);
      expect((await service.invoke('images.list', {})).total).toBe(1);
      for (const call of [
        () => service.invoke('review.set', { imageId: ids[0], state: 'flagged' }),
        () => service.invoke('dataset.import', { root: dir }),
        () => service.invoke('train.start', {}),
        () => service.invoke('evaluate.run', {}),
        () => service.invoke('predictions.import', { folder: dir, name: 'theirs' }),
        () => service.invoke('changes.start', {}),
      ]) {
        const error = await call().catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(ApiError);
        expect((error as ApiError).code).toBe('read-only');
        expect((error as ApiError).message).toMatch(
          /open read-only: it is on a network filesystem/,
        );
      }
      expect((await service.invoke('images.get', { id: ids[0] })).reviewState).toBe('unreviewed');
    } finally {
      service.close();
    }
    expect(fs.readdirSync(dir).sort(), fs.readdirSync(dir).join(',')).toEqual(before);
  });

  it('is refused in memory while a write-ahead log holds changes not in the file', async () => {
    const { dir, store } = await projectWithImages([{ name: 'a.png', split: 'train' }]);
    try {
      expect(() => ProjectStore.open(dir, { readOnly: 'test', inMemory: true })).toThrow(
        /write-ahead log/,
      );
    } finally {
      store.close();
    }
  });

  it('opens beside a writer of the same project', async () => {
    const { dir, store } = await projectWithImages([{ name: 'a.png', split: 'train' }]);
    const reader = ProjectStore.open(dir, { readOnly: 'a writer has it open' });
    expect(reader.counts().imageCount).toBe(1);
    expect(reader.lock).toBeNull();
    reader.close();
    store.close();
  });
});
