/**
 * Paths typed by a user (export.plan/export.start `out`, dataset.import `root`) are validated in
 * the contract (no NUL or other control character) and a relative one means relative to the
 * project folder, never to the server's working folder; the plan shows the absolute target.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Service } from '../../src/core/service';
import { importInputSchema } from '../../src/shared/dataset-schemas';
import { exportInputSchema } from '../../src/shared/export-schemas';
import { projectWithImages, rectMask, tempDir, writeGrayPng } from './project-fixtures';

const services: Service[] = [];

/** A working folder whose parent is not the project's parent, so '..' differs. */
function deepWorkingFolder(): string {
  const dir = path.join(tempDir('cwd'), 'deep', 'er');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
afterEach(() => {
  for (const service of services.splice(0)) service.close();
});

async function service() {
  const { store } = await projectWithImages(
    [{ name: 'a.png', split: 'train', gt: rectMask(32, 24, 2, 2, 9, 9) }],
    32,
    24,
  );
  const dir = store.dir;
  store.close();
  const created = new Service({ transport: 'http', projectDir: dir });
  services.push(created);
  return { service: created, dir };
}

describe('paths from users', () => {
  it('refuses a NUL or another control character in export and import paths, by the schema', () => {
    for (const bad of ['\u0000', '/tmp/out\u0000/x', '/tmp/a\nb', '/tmp/\u001b[31m']) {
      expect(exportInputSchema.safeParse({ out: bad }).success, JSON.stringify(bad)).toBe(false);
      expect(importInputSchema.safeParse({ root: bad }).success, JSON.stringify(bad)).toBe(false);
    }
    expect(exportInputSchema.safeParse({ out: '/data/exports/ünïcode masks' }).success).toBe(true);
  });

  it('resolves a relative export folder against the project folder and shows the absolute target', async () => {
    const { service: api, dir } = await service();
    const elsewhere = deepWorkingFolder();
    const cwd = process.cwd();
    process.chdir(elsewhere);
    const relative = `../${path.basename(dir)}-exported`;
    try {
      const plan = await api.invoke('export.plan', { out: relative });
      expect(plan.out).toBe(path.resolve(dir, relative));
      const job = await api.invoke('export.start', { out: relative });
      const result = (await api.jobs.wait(job.id)) as { out: string; masks: number };
      expect(result.out).toBe(plan.out);
      expect(fs.existsSync(path.join(plan.out, 'manifest.csv'))).toBe(true);
      expect(fs.existsSync(path.resolve(elsewhere, relative))).toBe(false);
      // Inside the project it is refused, saying where that is.
      await expect(api.invoke('export.plan', { out: 'exports' })).rejects.toThrow(
        new RegExp(
          `${path.join(dir, 'exports').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*overlaps the project folder`,
        ),
      );
    } finally {
      process.chdir(cwd);
    }
  });

  it('expands ~ to the home folder', async () => {
    const { service: api } = await service();
    const plan = await api.invoke('export.plan', { out: '~/qataseg-never-written' });
    expect(plan.out).toBe(path.join(os.homedir(), 'qataseg-never-written'));
  });

  it('resolves a relative dataset folder against the project folder', async () => {
    const { service: api, dir } = await service();
    const sibling = path.join(path.dirname(dir), `${path.basename(dir)}-data`);
    await writeGrayPng(path.join(sibling, 'one.png'), new Uint8Array(16 * 8), 16, 8);
    const elsewhere = deepWorkingFolder();
    const cwd = process.cwd();
    process.chdir(elsewhere);
    try {
      const job = await api.invoke('dataset.import', { root: `../${path.basename(sibling)}` });
      const result = (await api.jobs.wait(job.id)) as { root: string };
      expect(result.root).toBe(fs.realpathSync(sibling));
    } finally {
      process.chdir(cwd);
    }
  });
});
