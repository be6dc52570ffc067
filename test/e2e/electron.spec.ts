/**
 * The desktop app itself, through Playwright's Electron driver. Runs where an Electron binary is
 * installed (a user's machine, CI with network); elsewhere it is skipped with the reason.
 */
import { test, expect, _electron as electron } from '@playwright/test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { electronStatus } from '../../src/core/environment';
import { electronSqliteReleaseDir } from '../../src/launcher/electron-native';
import { addTeamUser, startWorkstation, stopWorkstation, tempProjectDir } from './fixtures';
import { seedReviewProject } from './review-seed';

const status = electronStatus();
const repoRoot = path.resolve(import.meta.dirname, '../..');
/** better-sqlite3 for Electron, as `npm start` prepares it (node_modules holds Node's build). */
const sqliteBinding =
  process.env.QATASEG_SQLITE_BINDING ??
  (status.packageVersion
    ? path.join(
        electronSqliteReleaseDir(
          path.join(repoRoot, '.qataseg', 'electron-native'),
          status.packageVersion,
        ),
        'better_sqlite3.node',
      )
    : '');

test.describe('Electron app', () => {
  test.skip(status.binaryPath === null, `no Electron binary: ${status.problem ?? ''}`);

  test('opens a secure window that talks to core through window.api', async () => {
    const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-electron-'));
    const app = await electron.launch({
      executablePath: status.binaryPath!,
      args: [path.join(repoRoot, 'out/main/index.js'), '--project', projectDir],
      env: { ...process.env, QATASEG_SQLITE_BINDING: sqliteBinding },
    });
    const window = await app.firstWindow();
    await expect(window.getByTestId('transport')).toHaveText('desktop');
    await expect(window.getByTestId('project-state')).toBeVisible();
    const exposesNode = await window.evaluate(
      () => typeof (globalThis as { require?: unknown }).require,
    );
    expect(exposesNode).toBe('undefined');

    // The menu bar is the action registry's: Review's states and Edit's undo are there, and a
    // click runs the action in the page (Invert toggles the viewer's window).
    await expect
      .poll(() =>
        app.evaluate(({ Menu }) =>
          (Menu.getApplicationMenu()?.items ?? []).flatMap((menu) =>
            (menu.submenu?.items ?? []).map(
              (item) => `${menu.label}/${item.id ?? item.role ?? ''}`,
            ),
          ),
        ),
      )
      .toEqual(expect.arrayContaining(['Edit/edit.undo', 'Review/review.flagged', 'Help/help']));
    await app.evaluate(({ Menu }) => {
      Menu.getApplicationMenu()?.getMenuItemById('help')?.click();
    });
    await expect(window.getByTestId('help-overlay')).toBeVisible();
    await app.close();
  });

  test('opens a team project by its URL: the server’s sign-in page, no window.api, no core', async () => {
    // A team project served as a team would serve it, with a first admin.
    const projectDir = tempProjectDir('qataseg-electron-team-');
    await seedReviewProject(projectDir, { count: 2, size: 64 });
    const admin = { password: await addTeamUser(projectDir, 'ada', 'admin') };
    const { workstation, child } = await startWorkstation(projectDir, ['--team']);
    try {
      const app = await electron.launch({
        executablePath: status.binaryPath!,
        args: [path.join(repoRoot, 'out/main/index.js'), '--team-url', workstation.baseUrl],
        env: { ...process.env, QATASEG_SQLITE_BINDING: sqliteBinding },
      });
      const window = await app.firstWindow();
      // The server's own sign-in page, in the app's window.
      await expect(window).toHaveURL(`${workstation.baseUrl}login`);
      await expect(window.getByRole('heading', { name: /Sign in to the team/ })).toBeVisible();
      // A remote page gets no preload: no window.api (no IPC to a local project), no Node.
      const globals = await window.evaluate(() => ({
        api: typeof (globalThis as { api?: unknown }).api,
        require: typeof (globalThis as { require?: unknown }).require,
      }));
      expect(globals).toEqual({ api: 'undefined', require: 'undefined' });
      // No local window and no core: the team window is the only one.
      expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(
        1,
      );

      // Signing in gives the browser-mode review, talking to that server.
      await window.getByLabel('Name').fill('ada');
      await window.getByLabel('Password').fill(admin.password);
      await window.getByRole('button', { name: 'Sign in' }).click();
      await expect(window.getByTestId('signed-in-as')).toHaveText('signed in as ada (admin)');
      await expect(window.getByTestId('transport')).toHaveText('browser mode');

      // Navigation off the server's origin is refused: the page stays where it is.
      const left = window.waitForEvent('framenavigated', { timeout: 3000 }).then(
        () => 'navigated',
        () => 'stayed',
      );
      await window.evaluate(() => {
        (globalThis as unknown as { location: { href: string } }).location.href =
          'https://example.org/';
      });
      expect(await left).toBe('stayed');
      expect(window.url().startsWith(workstation.baseUrl)).toBe(true);

      // The address is remembered for "Open team project…" (origin and path only).
      const userData = await app.evaluate(({ app: electronApp }) =>
        electronApp.getPath('userData'),
      );
      const recent = JSON.parse(fs.readFileSync(path.join(userData, 'team-urls.json'), 'utf8')) as {
        urls: string[];
      };
      expect(recent.urls[0]).toBe(workstation.baseUrl);
      await app.close();
    } finally {
      await stopWorkstation(child);
      fs.rmSync(projectDir, { recursive: true, force: true });
    }
  });

  test('beside --project, the team window cannot reach the local project’s images', async () => {
    const teamDir = tempProjectDir('qataseg-electron-team-');
    await seedReviewProject(teamDir, { count: 1, size: 64 });
    await addTeamUser(teamDir, 'ada', 'admin');
    const localDir = tempProjectDir('qataseg-electron-local-');
    const [imageId] = await seedReviewProject(localDir, { count: 1, size: 64 });
    const { workstation, child } = await startWorkstation(teamDir, ['--team']);
    try {
      const app = await electron.launch({
        executablePath: status.binaryPath!,
        args: [
          path.join(repoRoot, 'out/main/index.js'),
          '--project',
          localDir,
          '--team-url',
          workstation.baseUrl,
        ],
        env: { ...process.env, QATASEG_SQLITE_BINDING: sqliteBinding },
      });
      await expect.poll(() => app.windows().length).toBe(2);
      const team = app.windows().find((page) => page.url().startsWith(workstation.baseUrl))!;
      const local = app.windows().find((page) => page !== team)!;
      await expect(team).toHaveURL(`${workstation.baseUrl}login`);
      await expect(local.getByTestId('transport')).toHaveText('desktop');
      // The same request for a local image: answered for the app's page, refused for the team's
      // (its session has no qataseg-media: handler).
      const fetchMedia = (id: number) =>
        fetch(`qataseg-media://image/${id}`, { mode: 'no-cors' }).then(
          () => 'answered',
          () => 'refused',
        );
      expect(await local.evaluate(fetchMedia, imageId)).toBe('answered');
      expect(await team.evaluate(fetchMedia, imageId)).toBe('refused');
      expect(await team.evaluate(() => typeof (globalThis as { api?: unknown }).api)).toBe(
        'undefined',
      );
      await app.close();
    } finally {
      await stopWorkstation(child);
      fs.rmSync(teamDir, { recursive: true, force: true });
      fs.rmSync(localDir, { recursive: true, force: true });
    }
  });
});
