/**
 * The Team panel as its users open it (as the project's owner in token browser mode until
 * team-auth's login lands): a plan of three readers whose labels were saved through the project's
 * own functions (createUser, addReading; test/unit/team-fixtures.ts, figures worked out there),
 * the reader-pair Dice matrix, kappa, readers against the consensus, the disputed image, a stored
 * consensus computed from the panel, and the CSV download.
 */
import fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { test, expect } from '@playwright/test';
import { ProjectStore } from '../../src/core/project/store';
import { seedPlan } from '../unit/team-fixtures';
import { startWorkstation, stopWorkstation, tempProjectDir, type Workstation } from './fixtures';
import { seedReviewProject } from './review-seed';

let workstation: Workstation;
let child: ChildProcess;
let projectDir: string;

test.beforeAll(async () => {
  projectDir = tempProjectDir('qataseg-e2e-team-');
  const ids = await seedReviewProject(projectDir, { count: 6, size: 64 });
  const store = ProjectStore.open(projectDir);
  try {
    await seedPlan(store.db, ids.slice(0, 4), { width: 64, height: 64 });
  } finally {
    store.close();
  }
  ({ workstation, child } = await startWorkstation(projectDir));
});

test.afterAll(async () => {
  await stopWorkstation(child);
  fs.rmSync(projectDir, { recursive: true, force: true });
});

test('the Team panel shows the plan agreement, computes the consensus and downloads the CSV', async ({
  page,
}) => {
  await page.goto(workstation.url);
  await page.getByTestId('open-team').click();
  const panel = page.getByTestId('team-panel');
  await expect(panel).toBeVisible();

  const matrix = panel.getByTestId('team-matrix');
  await expect(matrix.locator('thead th')).toHaveText(['', 'ana', 'bo', 'cy']);
  // ana-bo 5/9, ana-cy 2/3, bo-cy 8/9 (both empty on the split image counts as agreement).
  await expect(panel.getByTestId('team-matrix-0-1')).toHaveText('0.56');
  await expect(panel.getByTestId('team-matrix-1-0')).toHaveText('0.56');
  await expect(panel.getByTestId('team-matrix-0-2')).toHaveText('0.67');
  await expect(panel.getByTestId('team-matrix-1-2')).toHaveText('0.89');
  await expect(panel.getByTestId('team-kappa')).toHaveText('Fleiss κ 0.55');
  await expect(panel.getByTestId('team-reader-row')).toHaveCount(3);
  await expect(panel.getByTestId('team-disputed-image')).toHaveCount(1);
  await expect(panel.getByTestId('team-disputed-image')).toContainText('1 positive / 2 negative');

  // Against the majority vote, bo marked half of img 1's lesion: sensitivity 0.50.
  await panel.getByTestId('team-method').selectOption('vote');
  await expect(panel.getByTestId('team-reader-row').nth(1).locator('td').nth(3)).toHaveText('0.50');
  await expect(panel.getByTestId('team-consensus-stored')).toContainText('stored for 0 of 3');
  await panel.getByTestId('team-consensus').click();
  await expect(panel.getByTestId('job-consensus')).toHaveAttribute('data-state', 'succeeded');
  await expect(panel.getByTestId('team-consensus-stored')).toContainText('stored for 3 of 3');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    panel.getByTestId('team-csv').click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^agreement-plan-\d+-vote\.csv$/);
  const csv = fs.readFileSync(await download.path(), 'utf8').split('\r\n');
  expect(csv).toContain('plan,,,,fleiss_kappa,0.55,3');
  expect(csv.some((line) => line.startsWith('pair,,bo,cy,mean_dice,0.888'))).toBe(true);

  // The registry's key opens it again.
  await panel.getByTestId('team-close').click();
  await expect(panel).toBeHidden();
  await page.locator('body').press('Shift+A');
  await expect(panel).toBeVisible();
});
