/**
 * A failed add leaves no models/<name> folder that blocks the name afterwards: the job removes
 * it when it fails, and a folder left by an add whose process died (killed mid-add; the worker
 * took the machine's memory) is claimed again, while a folder of an add still running is not.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claimVersion } from '../../src/core/ml/external/add-model';
import { ProjectStore } from '../../src/core/project/store';
import { tempDir } from './project-fixtures';

const stores: ProjectStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

function leftover(store: ProjectStore, name: string, pid: number) {
  const dir = path.join(store.modelsDir, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.onnx'), 'half a copy');
  fs.writeFileSync(path.join(dir, 'add.lock'), String(pid));
  return dir;
}

describe('claiming a version name', () => {
  it('claims again the folder of an add whose process is gone', () => {
    const store = ProjectStore.open(tempDir('leftover'));
    stores.push(store);
    const gone = spawnSync(process.execPath, ['-e', '0']).pid;
    const dir = leftover(store, 'ghost', gone);
    expect(claimVersion(store, 'ghost')).toBe('ghost');
    expect(fs.existsSync(path.join(dir, 'model.onnx'))).toBe(false);
  });

  it('refuses the name while the add that holds it runs, and once it has a card', () => {
    const store = ProjectStore.open(tempDir('leftover-live'));
    stores.push(store);
    leftover(store, 'running', process.pid);
    expect(() => claimVersion(store, 'running')).toThrow(/exists already/);
    const done = path.join(store.modelsDir, 'done');
    fs.mkdirSync(done, { recursive: true });
    fs.writeFileSync(path.join(done, 'card.json'), '{}');
    expect(() => claimVersion(store, 'done')).toThrow(/exists already/);
  });
});
