/**
 * A project database that another program is writing is waited for (busy timeout), never a
 * failed save; a wait that runs out is the contract's 'busy' (503), never a 500.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/shared/contract';
import { DATABASE_FILE } from '../../src/core/project/store';
import { createService, databaseError } from '../../src/core/service';
import { projectWithImages, rectMask } from './project-fixtures';
import { encodeGray8 } from '../../src/core/project/mask-png';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** Another program (here: plain better-sqlite3) writing to the file for `holdMs`. */
async function foreignWriter(file: string, holdMs: number): Promise<ChildProcess> {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1]);
    db.exec('BEGIN IMMEDIATE');
    db.prepare("INSERT INTO meta (key, value) VALUES ('foreign', 'x') ON CONFLICT(key) DO UPDATE SET value = value || 'x'").run();
    process.stdout.write('locked\\n');
    setTimeout(() => { db.exec('COMMIT'); db.close(); }, Number(process.argv[2]));
  `;
  const child = spawn(process.execPath, ['-e', script, file, String(holdMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      if (line === 'locked') resolve();
    });
    child.once('exit', (code) => reject(new Error(`writer exited with ${code}`)));
  });
  return child;
}

describe('a busy project database', () => {
  it('is waited for by review and mask saves while another program writes', async () => {
    const { dir, store, ids, w, h } = await projectWithImages([{ name: 'a.png', split: 'train' }]);
    store.close();
    const service = createService({ transport: 'http', projectDir: dir });
    try {
      await foreignWriter(path.join(dir, DATABASE_FILE), 800);
      const detail = await service.invoke('review.set', { imageId: ids[0], state: 'flagged' });
      expect(detail.reviewState).toBe('flagged');

      await foreignWriter(path.join(dir, DATABASE_FILE), 800);
      const png = await encodeGray8(rectMask(w, h, 2, 2, 10, 10), w, h);
      const saved = await service.invoke('masks.save', {
        imageId: ids[0],
        png: Buffer.from(png).toString('base64'),
      });
      expect(saved.correctionRevisionId).not.toBeNull();
    } finally {
      service.close();
    }
  });

  it("answers 'busy' (503 over HTTP), never 500, when the wait runs out", () => {
    const busy = databaseError(
      Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }),
      null,
    );
    expect(busy).toBeInstanceOf(ApiError);
    expect(busy?.code).toBe('busy');
    const snapshot = databaseError(
      Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY_SNAPSHOT' }),
      null,
    );
    expect(snapshot?.code).toBe('busy');
    const readOnly = databaseError(
      Object.assign(new Error('attempt to write a readonly database'), { code: 'SQLITE_READONLY' }),
      'on a network folder',
    );
    expect(readOnly?.code).toBe('read-only');
    expect(readOnly?.message).toContain('on a network folder');
    expect(databaseError(new Error('other'), null)).toBeNull();
  });
});
