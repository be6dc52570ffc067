/**
 * A project opened read-only (`qataseg serve --read-only`, as for a project on a network folder),
 * in Chromium: the page says so and why, every action that would write is off with the reason on
 * hover (and its key says the reason), reading, figures and export stay on, and a write that
 * reaches the server anyway shows the server's refusal.
 */
import fs from 'node:fs';
import path from 'node:path';
import { test as base, expect, type Page } from '@playwright/test';
import { actionControl, pressAction } from './editor-actions';
import { startWorkstation, stopWorkstation, tempProjectDir, type Workstation } from './fixtures';
import { seedReviewProject } from './review-seed';

const REASON = 'opened with --read-only';

interface Detail {
  reviewState: string;
  correctionRevisionId: number | null;
}

const test = base.extend<object, { readOnly: { workstation: Workstation; ids: number[] } }>({
  readOnly: [
    // eslint-disable-next-line no-empty-pattern -- Playwright fixtures must destructure.
    async ({}, use) => {
      const projectDir = tempProjectDir('qataseg-read-only-e2e-');
      const ids = await seedReviewProject(projectDir, { count: 4, size: 160 });
      const { workstation, child } = await startWorkstation(projectDir, ['--read-only']);
      await use({ workstation, ids });
      await stopWorkstation(child);
      fs.rmSync(projectDir, { recursive: true, force: true });
    },
    { scope: 'worker' },
  ],
});

async function openImage(page: Page, id: number): Promise<void> {
  await page.locator(`[data-testid=worklist-row][data-image-id="${id}"]`).click();
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-image-id', String(id));
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-loading', 'false');
}

async function stroke(page: Page): Promise<void> {
  const box = (await page.getByTestId('viewer').boundingBox())!;
  const x = box.x + box.width / 2 - 60;
  const y = box.y + box.height / 2 - 120;
  await page.mouse.move(x, y);
  await page.mouse.down();
  for (let i = 1; i <= 12; i++) await page.mouse.move(x + i * 10, y + i);
  await page.mouse.up();
}

/** Disabled, with the read-only reason on hover. */
async function expectOffForReadOnly(control: ReturnType<Page['getByTestId']>): Promise<void> {
  await expect(control).toBeDisabled();
  await expect(control).toHaveAttribute('title', new RegExp(`read-only.*${REASON}`));
}

test('the page says the project is read-only and why, and every writing action is off with the reason', async ({
  page,
  readOnly,
}) => {
  const { workstation, ids } = readOnly;
  const get = (id: number) => workstation.call<Detail>('images.get', { id });
  await page.setViewportSize({ width: 1400, height: 850 });
  await page.goto(workstation.url);

  const banner = page.getByTestId('read-only-banner');
  await expect(banner).toContainText(REASON);
  await expect(banner).toContainText('nothing is saved');
  await expectOffForReadOnly(page.getByTestId('open-dataset'));
  await expect(page.getByTestId('open-export')).toBeEnabled();

  await openImage(page, ids[0]);
  // The editor opens on Pan: the image can still be moved, zoomed and windowed.
  await expect(page.getByTestId('tool-pan')).toBeEnabled();
  await expect(page.getByTestId('tool-pan')).toHaveAttribute('aria-checked', 'true');
  for (const id of [
    'tool.brush',
    'tool.eraser',
    'tool.polygonAdd',
    'tool.fill',
    'edit.fillHoles',
    'edit.clear',
    'edit.thresholdInto',
    'review.accepted',
    'review.flagged',
    'review.negative',
  ]) {
    await expectOffForReadOnly(actionControl(page, id));
  }
  const comment = page.getByTestId('review-comment');
  await expect(comment).toHaveAttribute('readonly', '');
  await expect(comment).toHaveAttribute('title', new RegExp(REASON));
  // Looking stays on: layers, diff mode, window.
  await expect(actionControl(page, 'view.diff')).toBeEnabled();
  await expect(actionControl(page, 'layer.prediction')).toBeEnabled();

  // A key of a writing action says why instead of doing it; a drag on the image only pans.
  await pressAction(page, 'review.accepted');
  await expect(page.getByTestId('notice').last()).toContainText(REASON);
  await stroke(page);
  await pressAction(page, 'tool.brush');
  await expect(page.getByTestId('tool-pan')).toHaveAttribute('aria-checked', 'true');
  const after = await get(ids[0]);
  expect(after.reviewState).toBe('unreviewed');
  expect(after.correctionRevisionId).toBeNull();

  // Training, prediction and bringing models or predictions in are off too.
  await page.getByTestId('open-training').click();
  for (const id of [
    'train-start',
    'predict-all',
    'add-model-open',
    'import-predictions-open',
    'rollback',
  ]) {
    await expectOffForReadOnly(page.getByTestId(id));
  }
});

test("a save that reaches the server anyway shows the server's refusal, and the page then knows", async ({
  page,
  readOnly,
}) => {
  const { workstation, ids } = readOnly;
  await page.setViewportSize({ width: 1400, height: 850 });
  // A page that missed the read-only state (say, opened before the server was restarted
  // read-only): its project state arrives without the reason.
  await page.route('**/api/project.state', async (route) => {
    const response = await route.fetch();
    const state = (await response.json()) as Record<string, unknown>;
    await route.fulfill({ response, json: { ...state, readOnly: null } });
  });
  await page.goto(workstation.url);
  await openImage(page, ids[1]);
  await expect(page.getByTestId('read-only-banner')).toBeHidden();
  await expect(page.getByTestId('tool-brush')).toBeEnabled();
  await page.unroute('**/api/project.state');

  await page.getByTestId('tool-brush').click();
  await stroke(page);
  await expect(page.getByTestId('save-status')).toHaveText('not saved: read-only');
  await expect(page.getByTestId('notice').last()).toContainText(
    `the project is open read-only: ${REASON}`,
  );
  // Told by the server, the page shows the banner and turns the writing actions off.
  await expect(page.getByTestId('read-only-banner')).toContainText(REASON);
  await expectOffForReadOnly(page.getByTestId('tool-brush'));
  expect((await workstation.call<Detail>('images.get', { id: ids[1] })).correctionRevisionId).toBe(
    null,
  );
});

test('a project on a network folder, opened read-only, names the network filesystem as the reason', async ({
  page,
}) => {
  const projectDir = tempProjectDir('qataseg-read-only-nfs-e2e-');
  const out = path.join(tempProjectDir('qataseg-read-only-export-e2e-'), 'masks');
  const ids = await seedReviewProject(projectDir, { count: 2, size: 160 });
  // Declares the temp folder an NFS mount, as the mount table would for a real share.
  const { workstation, child } = await startWorkstation(projectDir, ['--read-only'], {
    QATASEG_FS_TYPE: `nfs=${projectDir}`,
  });
  try {
    const reason = 'it is on a network filesystem (nfs)';
    const reasonAtEnd = /The project is open read-only: it is on a network filesystem \(nfs\)$/;
    await page.setViewportSize({ width: 1400, height: 850 });
    await page.goto(workstation.url);
    await expect(page.getByTestId('read-only-banner')).toContainText(reason);
    await openImage(page, ids[0]);
    const brush = page.getByTestId('tool-brush');
    await brush.hover();
    await expect(brush).toBeDisabled();
    await expect(brush).toHaveAttribute('title', reasonAtEnd);
    await expect(page.getByTestId('review-comment')).toHaveAttribute('readonly', '');

    // Reading stays on: the masks export to a folder outside the share.
    await page.getByTestId('open-export').click();
    const dialog = page.getByTestId('export-dialog');
    await dialog.getByTestId('export-out').fill(out);
    await dialog.getByTestId('start-export').click();
    await dialog.getByTestId('confirm-export').click();
    await expect(dialog.getByTestId('job-export')).toHaveAttribute('data-state', 'succeeded', {
      timeout: 60_000,
    });
    await expect(dialog.getByTestId('export-count')).toHaveText(String(ids.length));
    expect(fs.readdirSync(out).length).toBeGreaterThan(0);
    await dialog.getByRole('button', { name: 'Close' }).click();

    await page.getByTestId('open-training').click();
    await expect(page.getByTestId('train-start')).toBeDisabled();
    await expect(page.getByTestId('train-start')).toHaveAttribute('title', reasonAtEnd);
  } finally {
    await stopWorkstation(child);
    fs.rmSync(projectDir, { recursive: true, force: true });
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
});
