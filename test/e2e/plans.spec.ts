/**
 * The admin's reading plan form (team review): three readers and an adjudicator exist; the plans
 * dialog opens by its key, creates a blind plan of 10 images with 2 readers each (balanced: 7, 7
 * and 6 images), shows each reader's progress, and closes the plan.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { test, expect } from '@playwright/test';
import { startWorkstation, stopWorkstation, tempProjectDir, type Workstation } from './fixtures';

const repoRoot = path.resolve(import.meta.dirname, '../..');
let workstation: Workstation;
let child: ChildProcess;
let base: string;

test.beforeAll(async () => {
  base = tempProjectDir('qataseg-e2e-plans-');
  const project = path.join(base, 'project');
  execFileSync(process.execPath, [
    path.join(repoRoot, 'bin/qataseg.mjs'),
    'demo',
    '--out',
    path.join(base, 'dataset'),
    '--count',
    '10',
    '--seed',
    '7',
    '--size',
    '64',
    '--project',
    project,
  ]);
  // The team (team-auth's `qataseg user add` writes the same rows, with real secrets).
  const db = new Database(path.join(project, 'project.sqlite'));
  const add = db.prepare(
    `INSERT INTO users (name, role, password_hash, token_hash, created_at)
     VALUES (?, ?, 'unused', ?, '2026-01-01T00:00:00Z')`,
  );
  for (const [name, role] of [
    ['ana', 'reader'],
    ['bo', 'reader'],
    ['cy', 'reader'],
    ['dee', 'adjudicator'],
  ]) {
    add.run(name, role, `token-of-${name}`);
  }
  db.close();
  ({ workstation, child } = await startWorkstation(project));
});

test.afterAll(async () => {
  await stopWorkstation(child);
  fs.rmSync(base, { recursive: true, force: true });
});

test('the admin creates a blind plan of 2 readers per image and follows its progress', async ({
  page,
}) => {
  await page.goto(workstation.url);
  await expect(page.getByTestId('worklist-total')).toHaveText('10 images');
  await page.keyboard.press('Shift+R');
  const dialog = page.getByTestId('plans-dialog');
  await expect(dialog).toBeVisible();

  await dialog.getByTestId('plan-name').fill('first read');
  await dialog.getByTestId('plan-every-reader').uncheck();
  await dialog.getByTestId('plan-per-image').fill('2');
  await expect(dialog.getByTestId('plan-blind')).toBeChecked();
  await dialog.getByTestId('plan-reveal-after').check();
  await dialog.getByTestId('plan-create').click();

  const plan = dialog.getByTestId('plan-1');
  await expect(plan).toContainText(
    'first read (active): 10 images, 2 per image, blind, reveal after',
  );
  await expect(plan.getByTestId('plan-progress')).toHaveText('0 of 20 reads done');
  // Balanced: 20 reads over three readers are 7, 7 and 6; the adjudicator reads none.
  const loads = await Promise.all(
    ['ana', 'bo', 'cy'].map(async (name) =>
      Number(/of (\d+) read/.exec(await plan.getByTestId(`plan-reader-${name}`).innerText())![1]),
    ),
  );
  expect(loads.sort()).toEqual([6, 7, 7]);
  await expect(plan.getByTestId('plan-reader-dee')).toHaveCount(0);

  // More readers per image than the team has: refused with the reason.
  await dialog.getByTestId('plan-per-image').fill('4');
  await dialog.getByTestId('plan-create').click();
  await expect(dialog.getByTestId('plans-error')).toContainText(
    '4 readers per image, but the team has 3 readers',
  );

  await plan.getByTestId('plan-close').click();
  await expect(plan).toContainText('first read (closed)');
  await expect(plan.getByTestId('plan-close')).toHaveCount(0);

  // The Close plan button is gone and the focus with it: Escape still closes the dialog (the
  // editor's keys leave an open dialog alone wherever the focus is).
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
});
