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
});
