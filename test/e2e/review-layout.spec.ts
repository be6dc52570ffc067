/**
 * The review screen at 1280x800 and 1600x1000: screenshots, no control over another or past its
 * panel's edge, a toast that covers no control of the worklist or the side panel (Erode, Clear),
 * and a help sheet that says when it scrolls.
 */
import fs from 'node:fs';
import path from 'node:path';
import { test as base, expect, type Page } from '@playwright/test';
import { startWorkstation, stopWorkstation, tempProjectDir, type Workstation } from './fixtures';
import { pressAction } from './editor-actions';
import { coveredControls, layoutProblems } from './layout-check';
import { seedReviewProject } from './review-seed';

interface Seeded {
  workstation: Workstation;
  ids: number[];
}

const test = base.extend<object, { seeded: Seeded }>({
  seeded: [
    // eslint-disable-next-line no-empty-pattern -- Playwright fixtures must destructure.
    async ({}, use) => {
      const projectDir = tempProjectDir('qataseg-layout-e2e-');
      const ids = await seedReviewProject(projectDir, { count: 6, size: 224 });
      const { workstation, child } = await startWorkstation(projectDir);
      await use({ workstation, ids });
      await stopWorkstation(child);
      fs.rmSync(projectDir, { recursive: true, force: true });
    },
    { scope: 'worker' },
  ],
});

const PANELS = ['.topbar', '[data-testid=worklist]', '.review-side'];
const VIEWPORTS = [
  { width: 1280, height: 800 },
  { width: 1600, height: 1000 },
];

async function openReview(page: Page, seeded: Seeded): Promise<void> {
  await page.goto(seeded.workstation.url);
  await page.locator(`[data-testid=worklist-row][data-image-id="${seeded.ids[0]}"]`).click();
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-image-id', String(seeded.ids[0]));
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-loading', 'false');
}

for (const viewport of VIEWPORTS) {
  const size = `${viewport.width}x${viewport.height}`;

  test(`review screen at ${size}: no control overlaps another or leaves its panel`, async ({
    page,
    seeded,
  }, testInfo) => {
    await page.setViewportSize(viewport);
    await openReview(page, seeded);
    const shot = testInfo.outputPath(`review-screen-${size}.png`);
    await page.screenshot({ path: shot });
    await testInfo.attach(`review screen ${size}`, { path: shot, contentType: 'image/png' });
    expect(fs.statSync(shot).size).toBeGreaterThan(0);
    for (const panel of PANELS) {
      const controls = page.locator(panel).locator('button, input, select, textarea');
      expect(await controls.count(), `${panel} has controls`).toBeGreaterThan(0);
      expect(await layoutProblems(page, page.locator(panel)), `${panel} at ${size}`).toEqual([]);
    }
  });

  test(`review screen at ${size}: a toast covers no control of the worklist or the side panel`, async ({
    page,
    seeded,
  }) => {
    await page.setViewportSize(viewport);
    await openReview(page, seeded);
    // Redo with nothing to redo says why in a toast.
    await pressAction(page, 'edit.redo');
    await expect(page.getByTestId('notice').first()).toBeVisible();
    const side = page.locator('.review-side');
    await side.evaluate((element) => (element.scrollTop = element.scrollHeight));
    for (const panel of ['.review-side', '[data-testid=worklist]', '.topbar']) {
      expect(await coveredControls(page, panel), `${panel} at ${size}`).toEqual([]);
    }
    await expect(page.locator('[data-action="edit.erode"]')).toBeVisible();
    await page.locator('[data-action="edit.erode"]').click({ trial: true, timeout: 2000 });
    await page.locator('[data-action="edit.clear"]').click({ trial: true, timeout: 2000 });
  });
}

test('the help sheet says that it scrolls while a group is cut off, and not at its end', async ({
  page,
  seeded,
}) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await openReview(page, seeded);
  await pressAction(page, 'help');
  const card = page.getByTestId('help-card');
  await expect(card).toBeVisible();
  const overflows = await card.evaluate((element) => element.scrollHeight > element.clientHeight);
  // At 1280x800 the sheet holds more than the window: the premise of this test.
  expect(overflows).toBe(true);
  await expect(page.getByTestId('help-scroll-hint')).toBeVisible();
  await card.evaluate((element) => (element.scrollTop = element.scrollHeight));
  await expect(page.getByTestId('help-scroll-hint')).toBeHidden();
  const shot = test.info().outputPath('help-sheet-1280x800.png');
  await page.screenshot({ path: path.resolve(shot) });
});
