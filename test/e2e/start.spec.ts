/**
 * `npm start` on a machine where Electron's binary cannot be had: it tries to fetch it (from a
 * download host that refuses connections, so the test is the same with or without a network),
 * says why in one line, and serves the UI in browser mode on the demo project, which opens.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { test, expect } from '@playwright/test';
import { installedElectronBinary } from '../../src/launcher/electron-binary';

const repoRoot = path.resolve(import.meta.dirname, '../..');

/**
 * Resolves once no process of the group `pgid` is left. One still there after 15 s is killed, and
 * the test says so: a server or worker that ignores SIGTERM is a defect, not a slow exit.
 */
async function groupGone(pgid: number): Promise<void> {
  for (let waited = 0; waited < 15_000; waited += 100) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  process.kill(-pgid, 'SIGKILL');
  throw new Error('a process of npm start outlived SIGTERM by 15 s');
}

test('npm start without Electron says why in one line and opens browser mode', async ({ page }) => {
  test.skip(
    installedElectronBinary() !== null,
    'an Electron binary is installed: npm start opens it',
  );
  test.setTimeout(300_000);
  const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-start-'));
  const child = spawn(process.execPath, [path.join(repoRoot, 'scripts/start.mjs'), '--port', '0'], {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
    // Port 9 on loopback: nothing listens, the connection is refused at once.
    env: { ...process.env, QATASEG_PROJECT: projectDir, ELECTRON_MIRROR: 'http://127.0.0.1:9/' },
  });
  const lines: string[] = [];
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) =>
        reject(new Error(`npm start exited with ${code}: ${lines.join('\n')}`)),
      );
      readline.createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line);
        const match = /^Open: (http:\/\/127\.0\.0\.1:\d+\/\?token=\w+)$/.exec(line);
        if (match) resolve(match[1]);
      });
    });
    const reasons = lines.filter((line) => line.startsWith('Electron unavailable'));
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(
      /^Electron unavailable \(.*ECONNREFUSED.*\): starting browser mode\.$/,
    );
    await page.goto(url);
    await expect(page.getByTestId('transport')).toHaveText('browser mode');
    await expect(page.getByTestId('worklist-row').first()).toBeVisible({ timeout: 60_000 });
  } finally {
    if (child.pid !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid, 'SIGTERM');
      await exited;
    }
    // The launcher is gone, but the server and its ML worker (same process group) may still be
    // ending and writing the demo project: wait until no process of the group is left.
    if (child.pid !== undefined) await groupGone(child.pid);
    fs.rmSync(projectDir, { recursive: true, force: true });
  }
});
