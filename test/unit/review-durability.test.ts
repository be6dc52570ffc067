import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ProjectStore } from '../../src/core/project/store';
import { getRevision } from '../../src/core/project/masks';
import { projectWithImages } from './project-fixtures';

const CHILD = path.join(import.meta.dirname, 'review-durability-child.ts');

describe('durability of acknowledged mask saves', () => {
  it('keeps every acknowledged save after kill -9 mid-burst, and the project opens clean', async () => {
    const { dir, store, ids, w, h } = await projectWithImages(
      [{ name: 'a.png', split: 'train' }],
      64,
      48,
    );
    store.close();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', CHILD, dir, String(ids[0]), String(w), String(h)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const acknowledged: number[] = [];
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    await new Promise<void>((resolve, reject) => {
      let buffered = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          const match = /^ack (\d+)$/.exec(line);
          if (match) acknowledged.push(Number(match[1]));
        }
        // Mid-burst: the child is saving as fast as it can when the kill lands.
        if (acknowledged.length >= 25 && !child.killed) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`child exited early: ${stderr}`)));
    }).catch((error: unknown) => {
      if (acknowledged.length < 25) throw error;
    });
    expect(await exited).toBe('SIGKILL');

    const reopened = ProjectStore.open(dir);
    try {
      expect(reopened.db.pragma('integrity_check', { simple: true })).toBe('ok');
      for (const id of acknowledged) expect(getRevision(reopened.db, id).source).toBe('correction');
      const head = reopened.db
        .prepare('SELECT correction_head_id AS head FROM images WHERE id = ?')
        .get(ids[0]) as {
        head: number;
      };
      // The head is the last acknowledged save or one that committed just before the kill.
      expect(head.head).toBeGreaterThanOrEqual(acknowledged[acknowledged.length - 1]);
    } finally {
      reopened.close();
    }
  });
});
