import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { createDemoProject, demoPhantom } from '../../src/core/dataset/demo';
import { createService, type Service } from '../../src/core/service';
import type { Job } from '../../src/shared/contract';
import { importResultSchema } from '../../src/shared/dataset-schemas';
import { tempDir } from './project-fixtures';

const services: Service[] = [];
afterEach(() => {
  for (const service of services.splice(0)) service.close();
});

describe('dataset handlers and demo project', () => {
  it('creates a demo project that the service opens and lists', async () => {
    const dir = tempDir('demo-project');
    const { result, datasetRoot } = await createDemoProject(dir, { count: 10, seed: 7, size: 32 });
    expect(datasetRoot.endsWith(path.join(path.basename(dir), 'demo-dataset'))).toBe(true);
    expect(result.report.pairs).toBe(10);
    const service = createService({ transport: 'http', projectDir: dir });
    services.push(service);
    const state = await service.invoke('project.state');
    expect(state).toMatchObject({ name: 'Demo project', imageCount: 10 });
    const list = await service.invoke('images.list', { limit: 5 });
    expect(list.total).toBe(10);
    expect(list.items).toHaveLength(5);
    const datasets = await service.invoke('dataset.list');
    expect(datasets).toHaveLength(1);
    expect(datasets[0].report?.pairs).toBe(10);
  });

  it('runs dataset.import as a job with progress, and refuses a missing folder up front', async () => {
    const source = tempDir('demo-source');
    await createDemoProject(source, { count: 8, seed: 2, size: 32 });
    const service = createService({ transport: 'http', projectDir: tempDir('job-project') });
    services.push(service);
    const updates: Job[] = [];
    const changed: unknown[] = [];
    service.subscribe((event, payload) => {
      if (event === 'job.updated') updates.push(payload as Job);
      if (event === 'images.changed') changed.push(payload);
    });
    const job = await service.invoke('dataset.import', { root: path.join(source, 'demo-dataset') });
    expect(job).toMatchObject({ kind: 'import', state: 'running' });
    await expect(
      service.invoke('dataset.import', { root: path.join(source, 'demo-dataset') }),
    ).rejects.toMatchObject({ code: 'conflict' });
    const result = importResultSchema.parse(await service.jobs.wait(job.id));
    expect(result.report.pairs).toBe(8);
    expect(service.jobs.get(job.id)).toMatchObject({ state: 'succeeded', done: 8, total: 8 });
    expect(updates.at(-1)?.state).toBe('succeeded');
    expect(changed).toEqual([{ reason: 'import' }]);
    expect((await service.invoke('project.state')).imageCount).toBe(8);
    await expect(
      service.invoke('dataset.import', { root: path.join(source, 'missing') }),
    ).rejects.toMatchObject({ code: 'bad-request' });
    await expect(
      service.invoke('dataset.import', { root: source, maskPattern: 'no-placeholder.png' }),
    ).rejects.toMatchObject({ code: 'bad-request' });
  });

  it('makes deterministic phantoms, some without infection', () => {
    const a = demoPhantom(3, 5, 64);
    const b = demoPhantom(3, 5, 64);
    expect(Buffer.from(a.image).equals(Buffer.from(b.image))).toBe(true);
    expect(Buffer.from(demoPhantom(4, 5, 64).image).equals(Buffer.from(a.image))).toBe(false);
    const lesions = Array.from({ length: 40 }, (_, i) => demoPhantom(1, i, 48));
    const empty = lesions.filter((p) => p.mask.every((v) => v === 0)).length;
    expect(empty).toBeGreaterThan(0);
    expect(empty).toBeLessThan(20);
    // Infection is brighter than the lung around it: the signal a U-Net learns.
    for (const phantom of lesions.filter((p) => p.lesions > 0).slice(0, 10)) {
      let inside = 0;
      let count = 0;
      for (let i = 0; i < phantom.mask.length; i++) {
        if (phantom.mask[i]) {
          inside += phantom.image[i];
          count++;
        }
      }
      expect(inside / count).toBeGreaterThan(80);
      expect(phantom.mask.every((v) => v === 0 || v === 255)).toBe(true);
    }
  });
});
