/**
 * An image whose file cannot be shown never lets an edit land on another image (issue 19 part 1).
 * A good image is opened, then one whose file was replaced on disk by garbage. Every action of the
 * editor's registry is then pressed by its key and clicked by its button, every tool is used on
 * the viewer and every review state is clicked; the good image's label, review state, comment and
 * history must be what they were. The unreadable image is shown as a failure in the viewer's place,
 * its label tools off with the reason, its review states and comment on.
 */
import fs from 'node:fs';
import path from 'node:path';
import { test as base, expect, type Page } from '@playwright/test';
import { ACTIONS } from '../../src/renderer/src/editor/registry';
import { startWorkstation, stopWorkstation, tempProjectDir, type Workstation } from './fixtures';
import { actionControl, pressAction } from './editor-actions';
import { seedReviewProject } from './review-seed';

interface Seeded {
  workstation: Workstation;
  ids: number[];
  projectDir: string;
}

const test = base.extend<object, { seeded: Seeded }>({
  seeded: [
    // eslint-disable-next-line no-empty-pattern -- Playwright fixtures must destructure.
    async ({}, use) => {
      const projectDir = tempProjectDir('qataseg-unreadable-e2e-');
      const ids = await seedReviewProject(projectDir, { count: 4, size: 224 });
      const { workstation, child } = await startWorkstation(projectDir);
      await use({ workstation, ids, projectDir });
      await stopWorkstation(child);
      fs.rmSync(projectDir, { recursive: true, force: true });
    },
    { scope: 'worker' },
  ],
});

interface Detail {
  id: number;
  name: string;
  relPath: string;
  labelRevisionId: number | null;
  correctionRevisionId: number | null;
  reviewState: string;
  comment: string;
}

/** Everything an edit or a review request of an image would change. */
async function imageRecord(workstation: Workstation, id: number) {
  const detail = await workstation.call<Detail>('images.get', { id });
  const history = await workstation.call<unknown[]>('masks.history', { imageId: id });
  return {
    labelRevisionId: detail.labelRevisionId,
    correctionRevisionId: detail.correctionRevisionId,
    reviewState: detail.reviewState,
    comment: detail.comment,
    history,
  };
}

async function dragAcrossViewer(page: Page): Promise<void> {
  const box = (await page.getByTestId('viewer').boundingBox())!;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  await page.mouse.move(cx - 30, cy - 30);
  await page.mouse.down();
  await page.mouse.move(cx, cy, { steps: 4 });
  await page.mouse.move(cx + 30, cy + 10, { steps: 4 });
  await page.mouse.up();
}

async function clickPolygon(page: Page): Promise<void> {
  const box = (await page.getByTestId('viewer').boundingBox())!;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  for (const [dx, dy] of [
    [-40, -40],
    [40, -30],
    [0, 40],
  ]) {
    await page.mouse.click(cx + dx, cy + dy);
  }
}

/**
 * Leaves a text field, the help sheet or a dialog (Team, plans, PACS...) the previous action may
 * have opened, so the next key and click reach the editor.
 */
async function settle(page: Page): Promise<void> {
  const inField = await page.evaluate(() => {
    const active = document.activeElement;
    return active instanceof HTMLInputElement || active instanceof HTMLTextAreaElement;
  });
  if (inField) await page.keyboard.press('Escape');
  if (await page.getByTestId('help-overlay').isVisible()) await page.keyboard.press('Escape');
  for (let tries = 0; tries < 3 && (await page.locator('dialog[open]').count()) > 0; tries++) {
    await page.keyboard.press('Escape');
  }
  await expect(page.locator('dialog[open]')).toHaveCount(0);
}

test('an image whose file cannot be decoded: no key, tool or review state changes the image shown before', async ({
  page,
  seeded,
}) => {
  const { workstation, ids, projectDir } = seeded;
  const [good, broken] = ids;
  const brokenDetail = await workstation.call<Detail>('images.get', { id: broken });
  const brokenFile = path.join(projectDir, 'dataset', brokenDetail.relPath);
  fs.writeFileSync(brokenFile, Buffer.from('this is not an image, it was replaced on disk\n'));
  const before = await imageRecord(workstation, good);

  await page.setViewportSize({ width: 1400, height: 900 });
  await page.goto(workstation.url);
  await page.locator(`[data-testid=worklist-row][data-image-id="${good}"]`).click();
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-image-id', String(good));
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-loading', 'false');

  await page.locator(`[data-testid=worklist-row][data-image-id="${broken}"]`).click();
  await expect(page.locator('[data-testid=worklist-row].selected')).toHaveAttribute(
    'data-image-id',
    String(broken),
  );
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-loading', 'false');
  // Whatever the viewer shows now, it must not be the good image.
  await expect.soft(page.getByTestId('viewer')).not.toHaveAttribute('data-image-id', String(good));
  // The failure stands in the viewer's place: which file, where, why.
  const failure = page.getByTestId('image-failure');
  await expect.soft(failure).toBeVisible();
  await expect.soft(failure).toContainText(brokenFile);
  await expect.soft(failure).toContainText(path.dirname(brokenFile));
  await expect.soft(failure).toContainText('cannot be decoded');
  // Label tools off with the reason; review states on; the worklist marks the row.
  await expect.soft(actionControl(page, 'tool.brush')).toBeDisabled();
  await expect.soft(actionControl(page, 'tool.brush')).toHaveAttribute('title', /cannot be shown/);
  await expect.soft(actionControl(page, 'edit.clear')).toBeDisabled();
  await expect.soft(actionControl(page, 'review.flagged')).toBeEnabled();
  await expect
    .soft(page.locator(`[data-testid=worklist-row][data-image-id="${broken}"]`))
    .toHaveAttribute('data-media-error', 'true');

  // Every key of every action that acts where it stands (navigation would leave the image).
  for (const action of ACTIONS) {
    if (action.group === 'Navigation' || action.keys.length === 0) continue;
    await pressAction(page, action.id);
    await settle(page);
  }
  // Every button, and every tool used on the viewer.
  for (const action of ACTIONS) {
    if (action.group === 'Navigation' || !action.testId) continue;
    const control = actionControl(page, action.id);
    if ((await control.count()) === 0 || !(await control.first().isVisible())) continue;
    if (await control.first().isEnabled()) await control.first().click({ timeout: 5000 });
    if (action.tool) {
      if (action.id.startsWith('tool.polygon')) {
        await clickPolygon(page);
        await page.keyboard.press('Enter');
      } else {
        await dragAcrossViewer(page);
      }
    }
    await settle(page);
  }
  const comment = page.getByTestId('review-comment');
  if ((await comment.isVisible()) && (await comment.isEditable())) {
    await comment.fill('typed while the unreadable image was selected');
    await comment.blur();
  }
  // Any request the clicks started has had time to arrive.
  await page.waitForTimeout(1500);

  expect(await imageRecord(workstation, good)).toEqual(before);
  // The review state and comment went to the unreadable image, the one selected.
  const brokenAfter = await workstation.call<Detail>('images.get', { id: broken });
  expect(brokenAfter.comment).toBe('typed while the unreadable image was selected');
  expect(brokenAfter.reviewState).not.toBe('unreviewed');
});
