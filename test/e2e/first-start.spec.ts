/**
 * A guided first start, the way `npm start` runs it: `qataseg serve --demo` on an empty folder
 * generates the demo dataset, trains a small first model in the background with its progress in
 * the page, promotes it and predicts every image; the worklist's Dice, Area and Unc. columns fill.
 */
import fs from 'node:fs';
import { expect, test } from '@playwright/test';
import { startWorkstation, stopWorkstation, tempProjectDir } from './fixtures';

test('the demo project opens with a first model training, then predictions to review', async ({
  page,
}) => {
  test.setTimeout(600_000);
  const projectDir = tempProjectDir('qataseg-e2e-first-start-');
  const { workstation, child } = await startWorkstation(projectDir, ['--demo']);
  try {
    await page.setViewportSize({ width: 1400, height: 850 });
    await page.goto(workstation.url);
    await expect(page.getByTestId('worklist-total')).toHaveText('120 images');
    // Training runs in the background, its progress in the jobs bar.
    const train = page.getByTestId('job-train');
    await expect(train).toBeVisible({ timeout: 60_000 });
    await expect(train.locator('.job-phase')).toContainText(/epoch \d+\/12|loading|starting/, {
      timeout: 60_000,
    });
    // Then every image is predicted; the worklist's figures fill in.
    await expect(page.getByTestId('model-count')).toHaveText('1', { timeout: 480_000 });
    const firstRow = page.getByTestId('worklist-row').first();
    await expect(firstRow.locator('.col-num').nth(0)).not.toHaveText('–', { timeout: 120_000 });
    // A finished job folds into the jobs bar's one line (a failed one would stay as its own row).
    await expect(page.getByTestId('jobs-finished')).toContainText('predict done', {
      timeout: 120_000,
    });
    await expect(page.getByTestId('job-predict')).toHaveCount(0);
    const rows = page.getByTestId('worklist-row');
    const shown = await rows.count();
    expect(shown).toBeGreaterThan(5);
    for (let i = 0; i < shown; i++) {
      for (const column of [0, 1, 2]) {
        await expect(rows.nth(i).locator('.col-num').nth(column)).not.toHaveText('–');
      }
    }
    const list = await workstation.call<{ items: { dice: number | null }[] }>('images.list', {
      limit: 200,
    });
    expect(list.items.filter((item) => item.dice === null)).toHaveLength(0);
    const models =
      await workstation.call<{ version: string; active: boolean; testDice: number }[]>(
        'models.list',
      );
    expect(models).toHaveLength(1);
    expect(models[0].active).toBe(true);
    console.log(`first start: demo model test Dice ${models[0].testDice.toFixed(3)}`);
  } finally {
    await stopWorkstation(child);
    fs.rmSync(projectDir, { recursive: true, force: true });
  }
});
