/**
 * e2e fixtures: a real project folder on disk and a real `qataseg serve` process in front of it,
 * started the way a user starts it. `workstation.url` carries the token, like the printed URL.
 */
import { test as base, expect, type Page } from '@playwright/test';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { promisify } from 'node:util';

export interface Workstation {
  url: string;
  baseUrl: string;
  token: string;
  projectDir: string;
  /** Calls a contract method over HTTP, as the renderer does. */
  call<T = unknown>(method: string, input?: unknown): Promise<T>;
}

const repoRoot = path.resolve(import.meta.dirname, '../..');

/**
 * The server runs from the built bundles (out/main/cli.js, forking out/main/worker.js), as a
 * packaged app and `npm start`'s browser mode run; QATASEG_E2E_SERVER=source runs `qataseg` from
 * the TypeScript sources through tsx instead, as `npx qataseg` does.
 */
export const serverEntry =
  process.env.QATASEG_E2E_SERVER === 'source'
    ? path.join(repoRoot, 'bin/qataseg.mjs')
    : path.join(repoRoot, 'out/main/cli.js');

const execFileAsync = promisify(execFile);

/** Runs a `qataseg` command (the same entry as the server) and returns what it printed. */
export async function runQataseg(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(process.execPath, [serverEntry, ...args]);
  return stdout;
}

/** Adds a team user by the CLI, as the README makes the first admin; their one-time password. */
export async function addTeamUser(projectDir: string, name: string, role: string): Promise<string> {
  const out = await runQataseg(
    'user',
    'add',
    name,
    '--role',
    role,
    '--project',
    projectDir,
    '--json',
  );
  return (JSON.parse(out) as { password: string }).password;
}

/** Signs in on the team server's sign-in page and waits for the workstation to say who. */
export async function signIn(page: Page, baseUrl: string, name: string, password: string) {
  await page.goto(baseUrl);
  await expect(page).toHaveURL(/\/login$/);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('signed-in-as')).toBeVisible();
}

export async function startWorkstation(
  projectDir: string,
  extraArgs: string[] = [],
  env: Record<string, string> = {},
): Promise<{ workstation: Workstation; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [serverEntry, 'serve', '--project', projectDir, '--port', '0', '--json', ...extraArgs],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } },
  );
  const lines = readline.createInterface({ input: child.stdout });
  const info = await new Promise<{ url: string; urlWithToken: string; token: string }>(
    (resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('qataseg serve did not start in 60 s')),
        60_000,
      );
      child.once('exit', (code) => reject(new Error(`qataseg serve exited with ${code}`)));
      lines.on('line', (line) => {
        try {
          const parsed = JSON.parse(line) as { url?: string; urlWithToken: string; token: string };
          if (parsed.url) {
            clearTimeout(timer);
            resolve(parsed as { url: string; urlWithToken: string; token: string });
          }
        } catch {
          // Not the JSON line.
        }
      });
    },
  );
  const workstation: Workstation = {
    url: info.urlWithToken,
    baseUrl: info.url,
    token: info.token,
    projectDir,
    async call<T>(method: string, input: unknown = {}) {
      const response = await fetch(`${info.url}api/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-qataseg-token': info.token },
        body: JSON.stringify(input),
      });
      const body = (await response.json()) as T;
      if (!response.ok) throw new Error(`${method}: ${response.status} ${JSON.stringify(body)}`);
      return body;
    },
  };
  return { workstation, child };
}

export function stopWorkstation(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export function tempProjectDir(prefix = 'qataseg-e2e-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * One server per test file (worker-scoped): starting it costs a few seconds. `workstation` opens
 * an empty project; `demoWorkstation` one with the generated demo dataset imported (`--demo`).
 */
export const test = base.extend<object, { workstation: Workstation; demoWorkstation: Workstation }>(
  {
    workstation: [
      // eslint-disable-next-line no-empty-pattern -- Playwright fixtures must destructure.
      async ({}, use) => {
        const projectDir = tempProjectDir();
        const { workstation, child } = await startWorkstation(projectDir);
        await use(workstation);
        await stopWorkstation(child);
        fs.rmSync(projectDir, { recursive: true, force: true });
      },
      { scope: 'worker' },
    ],
    demoWorkstation: [
      // eslint-disable-next-line no-empty-pattern -- Playwright fixtures must destructure.
      async ({}, use) => {
        const projectDir = tempProjectDir('qataseg-e2e-demo-');
        // The dataset only: tests that need a model train their own.
        const { workstation, child } = await startWorkstation(projectDir, [
          '--demo',
          '--no-demo-model',
        ]);
        await use(workstation);
        await stopWorkstation(child);
        fs.rmSync(projectDir, { recursive: true, force: true });
      },
      { scope: 'worker' },
    ],
  },
);

export { expect } from '@playwright/test';
