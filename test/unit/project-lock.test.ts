/**
 * One writer per project: a second process is refused with the holder's name; a lock whose holder
 * is gone is taken over; a lock from another machine is not.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, ProjectLockedError, readLock } from '../../src/core/project/lock';
import { ProjectStore } from '../../src/core/project/store';
import { tempDir } from './project-fixtures';

const CHILD = path.resolve(import.meta.dirname, 'project-lock-child.ts');
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** A process holding the project open, once it says so. */
async function holder(dir: string, mode = ''): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, mode], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines = readline.createInterface({ input: child.stdout });
  await new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => line === 'open' && resolve());
    child.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
  return child;
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

describe('the project write lock', () => {
  it('refuses a second process, naming the holder', async () => {
    const dir = tempDir('lock-held');
    const child = await holder(dir);
    let thrown: unknown;
    try {
      ProjectStore.open(dir).close();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ProjectLockedError);
    const message = (thrown as Error).message;
    expect(message).toContain(`pid ${child.pid}`);
    expect(message).toContain('project-lock-child');
    expect(message).toContain('this machine');
    expect(readLock(dir)).toMatchObject({ pid: child.pid, host: os.hostname() });
    child.stdin!.end();
    await exited(child);
    // Released by the holder: the next writer gets in.
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    ProjectStore.open(dir).close();
  });

  it('is released when the holder exits without closing the project', async () => {
    const dir = tempDir('lock-exit');
    const child = await holder(dir, '--no-close');
    child.stdin!.end();
    await exited(child);
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });

  it('is taken over when its holder was killed', async () => {
    const dir = tempDir('lock-killed');
    const child = await holder(dir);
    child.kill('SIGKILL');
    await exited(child);
    expect(readLock(dir)?.pid).toBe(child.pid);
    const store = ProjectStore.open(dir);
    expect(readLock(dir)?.pid).toBe(process.pid);
    store.close();
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });

  it('is not taken over from another machine, and says how to remove it', () => {
    const dir = tempDir('lock-remote');
    const lock = {
      pid: 4242,
      host: 'radiology-ws-7',
      command: 'qataseg serve --project /mnt/share/p',
      since: '2025-01-02T03:04:05.000Z',
    };
    fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify(lock));
    expect(() => ProjectStore.open(dir)).toThrow(/host radiology-ws-7/);
    expect(() => ProjectStore.open(dir)).toThrow(
      `If radiology-ws-7 no longer has it open, delete ${path.join(dir, LOCK_FILE)}`,
    );
    expect(readLock(dir)).toMatchObject(lock);
  });

  it('is shared by the stores of one process and removed with the last', () => {
    const dir = tempDir('lock-reentrant');
    const first = ProjectStore.open(dir);
    const second = ProjectStore.open(dir);
    first.close();
    expect(readLock(dir)?.pid).toBe(process.pid);
    second.close();
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });

  it('takes over a torn lock file once it is old', () => {
    const dir = tempDir('lock-torn');
    const file = path.join(dir, LOCK_FILE);
    fs.writeFileSync(file, '{"pid": 12');
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(file, old, old);
    ProjectStore.open(dir).close();
  });
});
