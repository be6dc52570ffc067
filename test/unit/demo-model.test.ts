/**
 * The demo project's first model, through the service and the real ML worker: trained, promoted,
 * and every image predicted, with the worklist told as predictions land (not only at the end).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createService, type Service } from '../../src/core/service';
import { prepareDemoModel } from '../../src/core/demo-model';
import { discProject } from './ml-fixtures';

const services: Service[] = [];
afterEach(() => {
  while (services.length > 0) services.pop()?.close();
});

describe('the demo model', () => {
  it('trains a first model, promotes it and predicts every image, announcing predictions as they land', async () => {
    const project = await discProject(36, 8, 32, 32);
    const service = createService({ transport: 'http', backend: 'wasm', projectDir: project.dir });
    services.push(service);
    const announced: number[][] = [];
    service.subscribe((event, payload) => {
      const change = payload as { reason?: string; imageIds?: number[] };
      if (event === 'images.changed' && change.reason === 'prediction' && change.imageIds)
        announced.push(change.imageIds);
    });
    const tiny = { epochs: 1, size: 32, base: 4, batch: 4, promote: 'always' } as const;
    expect(await prepareDemoModel(service, tiny)).toBe('trained');
    const list = await service.invoke('images.list', { limit: 100 });
    expect(list.total).toBe(44);
    expect(list.items.every((item) => item.dice !== null && item.uncertainty !== null)).toBe(true);
    expect((await service.invoke('models.list')).map((m) => [m.version, m.active])).toEqual([
      ['v1', true],
    ]);
    // In batches as they are saved: every image once, in more than one announcement.
    expect(announced.length).toBeGreaterThan(1);
    expect(announced.flat().sort((a, b) => a - b)).toEqual([...project.ids].sort((a, b) => a - b));

    // Started again: nothing to do; a model exists.
    expect(await prepareDemoModel(service, tiny)).toBe('nothing');
    // A cold worker, a training and 44 predictions: more than 60 s at a load average of 19 and
    // more than 180 s at 27 in the flake audit (both timed out): 3 times the longer
    // (test/FLAKE-AUDIT.md).
  }, 540_000);
});
