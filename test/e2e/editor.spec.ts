/**
 * The editor's registered actions as a user meets them, in Chromium against `qataseg serve`:
 * - a project without a model says what to do (Train, then Predict), and every action that needs
 *   a prediction is disabled with the reason, its key saying why instead of doing nothing;
 * - `o` outlines only the selected layer; brush size and the islands limit survive a reload;
 * - the brush cursor disappears when the pointer leaves the image;
 * - worklist names keep their full width beside a queue badge.
 */
import fs from 'node:fs';
import { test as base, expect, type Page } from '@playwright/test';
import { startWorkstation, stopWorkstation, tempProjectDir, type Workstation } from './fixtures';
import { actionControl, pressAction } from './editor-actions';
import { seedReviewProject } from './review-seed';

interface Seeded {
  workstation: Workstation;
  ids: number[];
}

async function seeded(withPredictions: boolean, use: (value: Seeded) => Promise<void>) {
  const projectDir = tempProjectDir('qataseg-editor-e2e-');
  const ids = await seedReviewProject(projectDir, { count: 6, size: 224, withPredictions });
  const { workstation, child } = await startWorkstation(projectDir);
  await use({ workstation, ids });
  await stopWorkstation(child);
  fs.rmSync(projectDir, { recursive: true, force: true });
}

const test = base.extend<object, { predicted: Seeded; unmodelled: Seeded }>({
  predicted: [
    // eslint-disable-next-line no-empty-pattern -- Playwright fixtures must destructure.
    async ({}, use) => seeded(true, use),
    { scope: 'worker' },
  ],
  unmodelled: [
    // eslint-disable-next-line no-empty-pattern -- Playwright fixtures must destructure.
    async ({}, use) => seeded(false, use),
    { scope: 'worker' },
  ],
});

async function openImage(page: Page, id: number): Promise<void> {
  await page.locator(`[data-testid=worklist-row][data-image-id="${id}"]`).click();
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-image-id', String(id));
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-loading', 'false');
}

test('without a model: a banner says Train then Predict, and prediction actions say why they are off', async ({
  page,
  unmodelled,
}) => {
  const { workstation, ids } = unmodelled;
  await page.setViewportSize({ width: 1400, height: 850 });
  await page.goto(workstation.url);
  const banner = page.getByTestId('first-start-banner');
  await expect(banner).toContainText('No model yet');
  await expect(banner).toContainText('Train');
  await expect(banner).toContainText('Predict');

  await openImage(page, ids[0]);
  for (const id of ['edit.thresholdInto', 'edit.acceptPrediction', 'tool.keepComponent']) {
    const control = actionControl(page, id);
    await expect(control, id).toBeDisabled();
    await expect(control, id).toHaveAttribute(
      'title',
      /No model yet: train one .* then run Predict/,
    );
  }
  await expect(page.getByTestId('threshold')).toBeDisabled();
  // Actions that need no prediction stay available.
  await expect(actionControl(page, 'edit.fillHoles')).toBeEnabled();

  // The key of a disabled action changes nothing and says why.
  await pressAction(page, 'edit.acceptPrediction');
  await expect(page.getByTestId('notice')).toContainText('Accept pred.: No model yet');
  const detail = await workstation.call<{ correctionRevisionId: number | null }>('images.get', {
    id: ids[0],
  });
  expect(detail.correctionRevisionId).toBeNull();
  await expect(page.getByTestId('save-status')).toHaveText('');

  // The banner's button opens where training starts.
  await page.getByTestId('first-start-open-training').click();
  await expect(page.getByTestId('train-start')).toBeVisible();
});

test('o outlines only the selected layer; brush size and the islands limit survive a reload', async ({
  page,
  predicted,
}) => {
  const { workstation, ids } = predicted;
  await page.setViewportSize({ width: 1400, height: 850 });
  await page.goto(workstation.url);
  await openImage(page, ids[1]);
  const outline = (layer: string) => page.getByTestId(`layer-outline-${layer}`);
  const states = async () =>
    Promise.all(['ground-truth', 'prediction', 'label'].map((l) => outline(l).isChecked()));
  const [gt, prediction, label] = await states();

  await pressAction(page, 'view.outline');
  await expect.poll(states).toEqual([gt, prediction, !label]);
  await page.getByTestId('layer-select-prediction').check();
  await pressAction(page, 'view.outline');
  await expect.poll(states).toEqual([gt, !prediction, !label]);

  await page.getByTestId('brush-size').fill('23');
  await page.getByTestId('island-min-pixels').fill('57');
  await expect(page.getByTestId('brush-size')).toHaveValue('23');
  await page.reload();
  await expect(page.getByTestId('brush-size')).toHaveValue('23');
  await expect(page.getByTestId('island-min-pixels')).toHaveValue('57');
  // A larger brush from the keyboard is kept too.
  await pressAction(page, 'brush.larger');
  await expect(page.getByTestId('brush-size')).toHaveValue('29');
  await page.reload();
  await expect(page.getByTestId('brush-size')).toHaveValue('29');
});

test('the brush cursor shows over the image only', async ({ page, predicted }) => {
  const { workstation, ids } = predicted;
  await page.setViewportSize({ width: 1400, height: 850 });
  await page.goto(workstation.url);
  await openImage(page, ids[2]);
  await actionControl(page, 'tool.brush').click();
  const viewer = page.getByTestId('viewer');
  const box = (await viewer.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await expect(viewer).toHaveAttribute('data-brush-cursor', 'shown');
  // Out over the worklist: no cursor circle left behind at the edge of the image.
  await page.mouse.move(box.x - 60, box.y + box.height / 2, { steps: 4 });
  await expect(viewer).toHaveAttribute('data-brush-cursor', 'hidden');
  await page.mouse.move(box.x + box.width / 3, box.y + box.height / 3, { steps: 4 });
  await expect(viewer).toHaveAttribute('data-brush-cursor', 'shown');
  // Tools without a brush never show it.
  await actionControl(page, 'tool.fill').click();
  await expect(viewer).toHaveAttribute('data-brush-cursor', 'hidden');
});

test('names beside a queue badge are not cut', async ({ page, predicted }) => {
  const { workstation } = predicted;
  await page.setViewportSize({ width: 1400, height: 850 });
  await page.goto(workstation.url);
  await page.getByTestId('sort-uncertainty').click();
  await expect(page.getByTestId('queue-badge').first()).toBeVisible();
  const cells = page.locator('[data-testid=worklist-row] .col-name');
  const count = await cells.count();
  expect(count).toBeGreaterThan(0);
  for (let i = 0; i < count; i++) {
    const fit = await cells.nth(i).evaluate((cell) => {
      const inner = cell.getBoundingClientRect();
      const parts = Array.from(cell.children).map((child) => child.getBoundingClientRect());
      return {
        overflow: cell.scrollWidth - cell.clientWidth,
        inside: parts.every((part) => part.right <= inner.right + 0.5),
        nameCut: Array.from(cell.querySelectorAll('*')).some(
          (el) => el.scrollWidth > el.clientWidth,
        ),
      };
    });
    expect(fit, `row ${i}`).toEqual({ overflow: 0, inside: true, nameCut: false });
  }
});

test('keys pressed in a dialog, or Enter on a button, stay there', async ({ page, predicted }) => {
  const { workstation, ids } = predicted;
  await page.goto(workstation.url);
  await openImage(page, ids[3]);
  await page.getByTestId('open-dataset').click();
  const dialog = page.getByTestId('open-dataset-dialog');
  await dialog.getByRole('checkbox').focus();
  await pressAction(page, 'review.accepted');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  const detail = await workstation.call<{ reviewState: string }>('images.get', { id: ids[3] });
  expect(detail.reviewState).toBe('unreviewed');

  // Enter on a focused tool button presses it, it does not try to close a polygon.
  await actionControl(page, 'tool.polygonAdd').focus();
  await page.keyboard.press('Enter');
  await expect(actionControl(page, 'tool.polygonAdd')).toHaveAttribute('aria-checked', 'true');
  await expect(page.getByTestId('notice')).toHaveCount(0);
});
