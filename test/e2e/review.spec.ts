/**
 * The review workstation end to end, in Chromium against `qataseg serve` on a seeded project:
 * pick, paint, undo, redo, switch away and back, review state, reload, filter, and diff counts that
 * equal the server's `images.metrics`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { test as base, expect, type Page, type TestInfo } from '@playwright/test';
import sharp from 'sharp';
import { pressAction } from './editor-actions';
import { startWorkstation, stopWorkstation, tempProjectDir, type Workstation } from './fixtures';
import { seedReviewProject } from './review-seed';

interface Detail {
  id: number;
  reviewState: string;
  correctionRevisionId: number | null;
  labelRevisionId: number | null;
  groundTruthRevisionId: number | null;
  canUndo: boolean;
  canRedo: boolean;
}

interface Counts {
  tp: number;
  fp: number;
  fn: number;
}

const test = base.extend<object, { seeded: { workstation: Workstation; ids: number[] } }>({
  seeded: [
    // eslint-disable-next-line no-empty-pattern -- Playwright fixtures must destructure.
    async ({}, use) => {
      // A fixed project name, so the README's screenshot changes only when the screen does.
      const parent = tempProjectDir('qataseg-review-e2e-');
      const projectDir = path.join(parent, 'chest-review');
      fs.mkdirSync(projectDir);
      const ids = await seedReviewProject(projectDir, { count: 8, size: 224 });
      const { workstation, child } = await startWorkstation(projectDir);
      await use({ workstation, ids });
      await stopWorkstation(child);
      fs.rmSync(parent, { recursive: true, force: true });
    },
    { scope: 'worker' },
  ],
});

async function openImage(page: Page, id: number): Promise<void> {
  await page.locator(`[data-testid=worklist-row][data-image-id="${id}"]`).click();
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-image-id', String(id));
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-loading', 'false');
}

/** Keeps a screenshot of a main view in test-results and attaches it to the report. */
async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

async function shownCounts(page: Page): Promise<Counts> {
  const read = async (id: string) => Number(await page.getByTestId(id).textContent());
  return { tp: await read('diff-tp'), fp: await read('diff-fp'), fn: await read('diff-fn') };
}

test('paint, undo, redo, switch, review, reload, filter and diff against the server', async ({
  page,
  seeded,
}, testInfo) => {
  const { workstation, ids } = seeded;
  const [first, second] = ids;
  const get = (id: number) => workstation.call<Detail>('images.get', { id });
  await page.setViewportSize({ width: 1400, height: 850 });
  await page.goto(workstation.url);
  await expect(page.getByTestId('worklist-row')).toHaveCount(ids.length);

  // Pick an image.
  await openImage(page, first);
  const correctionFigure = page.getByTestId('layer-figures-label');
  const before = await correctionFigure.textContent();
  expect((await get(first)).correctionRevisionId).toBeNull();
  // The label layer names the mask in force: the ground truth until a correction is saved.
  const labelName = page.getByTestId('layer-name-label');
  await expect(labelName).toHaveText('Label (ground truth)');

  // Paint a stroke with the mouse, away from the lesion.
  const box = (await page.getByTestId('viewer').boundingBox())!;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  await page.mouse.move(cx - 80, cy - 180);
  await page.mouse.down();
  for (let i = 1; i <= 16; i++) await page.mouse.move(cx - 80 + i * 10, cy - 180 + i * 2);
  await page.mouse.up();
  await expect(page.getByTestId('save-status')).toHaveText('saved');
  const painted = await correctionFigure.textContent();
  expect(painted).not.toBe(before);
  const afterStroke = await get(first);
  expect(afterStroke.correctionRevisionId).not.toBeNull();
  expect(afterStroke.canUndo).toBe(true);
  await expect(labelName).toHaveText('Label (correction)');
  await snap(page, testInfo, 'viewer-after-stroke');
  // The README's screenshot of the review screen, kept current by this test.
  await page.screenshot({
    path: new URL('../../docs/review-screen.png', import.meta.url).pathname,
  });

  // Undo and redo go through the server's revisions.
  await pressAction(page, 'edit.undo');
  await expect(correctionFigure).toHaveText(before!);
  await expect.poll(async () => (await get(first)).correctionRevisionId).toBeNull();
  await expect(page.getByTestId('redo')).toBeEnabled();
  await pressAction(page, 'edit.redo');
  await expect(correctionFigure).toHaveText(painted!);
  await expect
    .poll(async () => (await get(first)).correctionRevisionId)
    .toBe(afterStroke.correctionRevisionId);

  // Switch away and back: the stroke is there.
  await openImage(page, second);
  await expect(correctionFigure).not.toHaveText(painted!);
  await openImage(page, first);
  await expect(correctionFigure).toHaveText(painted!);

  // Review state, then reload: everything persisted.
  await page.getByTestId('review-state-flagged').click();
  await expect(page.getByTestId('review-state-flagged')).toHaveAttribute('aria-checked', 'true');
  await expect.poll(async () => (await get(first)).reviewState).toBe('flagged');
  await page.getByTestId('review-comment').fill('check the apex');
  await page.getByTestId('review-comment').blur();
  await expect.poll(async () => (await get(first)).reviewState).toBe('flagged');
  await page.reload();
  await openImage(page, first);
  await expect(page.getByTestId('review-state-flagged')).toHaveAttribute('aria-checked', 'true');
  await expect(page.getByTestId('review-comment')).toHaveValue('check the apex');
  await expect(correctionFigure).toHaveText(painted!);
  await expect(
    page.locator(`[data-testid=worklist-row][data-image-id="${first}"]`),
  ).toHaveAttribute('data-state', 'flagged');

  // Filter the worklist by state.
  await page.getByTestId('worklist-filter-state').selectOption('flagged');
  await expect(page.getByTestId('worklist-row')).toHaveCount(1);
  await expect(page.getByTestId('worklist-row')).toHaveAttribute('data-image-id', String(first));
  await snap(page, testInfo, 'worklist-filtered');
  await page.getByTestId('worklist-filter-state').selectOption('');
  await expect(page.getByTestId('worklist-row')).toHaveCount(ids.length);

  // Diff mode: the counts shown equal the server's metrics, for two pairs of layers.
  await page.getByTestId('diff-mode').check();
  for (const [a, b] of [
    ['prediction', 'ground-truth'],
    ['label', 'ground-truth'],
  ] as const) {
    await page.getByTestId('diff-candidate').selectOption(a);
    await page.getByTestId('diff-reference').selectOption(b);
    const server = await workstation.call<Counts>('images.metrics', {
      imageId: first,
      a,
      b,
      threshold: 0.5,
    });
    expect(server.tp + server.fp + server.fn).toBeGreaterThan(0);
    await expect
      .poll(() => shownCounts(page))
      .toEqual({ tp: server.tp, fp: server.fp, fn: server.fn });
  }
  await snap(page, testInfo, 'diff-mode');

  // The shortcut sheet.
  await pressAction(page, 'help');
  await expect(page.getByTestId('help-overlay')).toBeVisible();
  await snap(page, testInfo, 'shortcuts');
  await pressAction(page, 'polygon.cancel');
  await expect(page.getByTestId('help-overlay')).toBeHidden();
});

test('keyboard: next unreviewed skips reviewed images; accept sets the state', async ({
  page,
  seeded,
}) => {
  const { workstation, ids } = seeded;
  await page.goto(workstation.url);
  await openImage(page, ids[2]);
  await pressAction(page, 'review.accepted');
  await expect
    .poll(async () => (await workstation.call<Detail>('images.get', { id: ids[2] })).reviewState)
    .toBe('accepted');
  await openImage(page, ids[1]);
  // ids[2] is accepted now: next unreviewed goes to ids[3].
  await pressAction(page, 'nav.nextUnreviewed');
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-image-id', String(ids[3]));
});

test('tools: polygon add, accept prediction and clear are saved and agree with the server', async ({
  page,
  seeded,
}, testInfo) => {
  const { workstation, ids } = seeded;
  const id = ids[4];
  const serverCounts = async (a: string, b: string) => {
    const m = await workstation.call<Counts>('images.metrics', {
      imageId: id,
      a,
      b,
      threshold: 0.5,
    });
    return { tp: m.tp, fp: m.fp, fn: m.fn };
  };
  await page.setViewportSize({ width: 1400, height: 850 });
  await page.goto(workstation.url);
  await openImage(page, id);
  await page.getByTestId('diff-mode').check();
  await page.getByTestId('diff-candidate').selectOption('label');
  await page.getByTestId('diff-reference').selectOption('ground-truth');
  // Before any edit the label in force is the ground truth (the host has no correction yet).
  expect(await shownCounts(page)).toMatchObject({ fp: 0, fn: 0 });

  // Polygon add: four clicks near the top, Enter closes it; the square becomes false positives.
  await pressAction(page, 'tool.polygonAdd');
  const box = (await page.getByTestId('viewer').boundingBox())!;
  const x0 = box.x + box.width / 2 - 40;
  const y0 = box.y + box.height / 2 - 200;
  for (const [dx, dy] of [
    [0, 0],
    [80, 0],
    [80, 60],
    [0, 60],
  ]) {
    await page.mouse.click(x0 + dx, y0 + dy);
  }
  await pressAction(page, 'polygon.close');
  await expect(page.getByTestId('save-status')).toHaveText('saved');
  const afterPolygon = await shownCounts(page);
  // 80x60 screen pixels at the fitted scale (about 3x) is roughly 27x20 image pixels.
  expect(afterPolygon.fp).toBeGreaterThan(300);
  await expect.poll(() => serverCounts('label', 'ground-truth')).toEqual(afterPolygon);
  await snap(page, testInfo, 'polygon-diff');

  // Accept the prediction as the label: the correction now equals the thresholded prediction.
  await pressAction(page, 'edit.acceptPrediction');
  await expect(page.getByTestId('save-status')).toHaveText('saved');
  await page.getByTestId('diff-reference').selectOption('prediction');
  const accepted = await shownCounts(page);
  expect(accepted.fp + accepted.fn).toBe(0);
  expect(accepted.tp).toBeGreaterThan(0);
  await expect.poll(() => serverCounts('label', 'prediction')).toEqual(accepted);

  // Clear: nothing left of the label, on screen and on the host.
  await pressAction(page, 'edit.clear');
  await expect(page.getByTestId('save-status')).toHaveText('saved');
  await expect.poll(() => shownCounts(page)).toEqual({ tp: 0, fp: 0, fn: accepted.tp });
  await expect
    .poll(() => serverCounts('label', 'prediction'))
    .toEqual({
      tp: 0,
      fp: 0,
      fn: accepted.tp,
    });
});

test('a save refused by a conflict reloads the newer label and re-applies the edit on top', async ({
  page,
  seeded,
}) => {
  const { workstation, ids } = seeded;
  const id = ids[6];
  const size = 224;
  await page.setViewportSize({ width: 1400, height: 850 });
  await page.goto(workstation.url);
  await openImage(page, id);
  const opened = await workstation.call<Detail>('images.get', { id });

  // The user starts painting on the label they opened...
  const box = (await page.getByTestId('viewer').boundingBox())!;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  await page.mouse.move(cx - 80, cy + 150);
  await page.mouse.down();
  for (let i = 1; i <= 8; i++) await page.mouse.move(cx - 80 + i * 10, cy + 150);

  // ...when another window saves first: a square in the top-left corner. (Had it landed before
  // the stroke began, the page would have shown it; a stroke under way is never reloaded.)
  const square = new Uint8Array(size * size);
  for (let y = 0; y < 40; y++) for (let x = 0; x < 40; x++) square[y * size + x] = 255;
  const png = await sharp(Buffer.from(square), { raw: { width: size, height: size, channels: 1 } })
    .png()
    .toBuffer();
  const theirs = await workstation.call<Detail>('masks.save', {
    imageId: id,
    png: png.toString('base64'),
    baseRevisionId: opened.labelRevisionId,
  });

  // The stroke ends; the host refuses its save.
  for (let i = 9; i <= 16; i++) await page.mouse.move(cx - 80 + i * 10, cy + 150);
  await page.mouse.up();
  const notice = page.getByTestId('save-conflict');
  await expect(notice).toBeVisible();
  await expect(notice).toContainText(`revision ${theirs.labelRevisionId}`);
  await expect(page.getByTestId('save-status')).toHaveText('not saved: newer label loaded');
  expect((await workstation.call<Detail>('images.get', { id })).labelRevisionId).toBe(
    theirs.labelRevisionId,
  );

  // Re-apply: a new revision on top of theirs, holding their square and the stroke.
  await page.getByTestId('conflict-reapply').click();
  await expect(page.getByTestId('save-status')).toHaveText('saved');
  await expect(notice).toBeHidden();
  const history = await workstation.call<
    { id: number; parentId: number | null; foreground: number }[]
  >('masks.history', { imageId: id });
  const head = history.at(-1)!;
  const theirRevision = history.find((revision) => revision.id === theirs.labelRevisionId)!;
  expect(head.parentId).toBe(theirs.labelRevisionId);
  expect(head.foreground).toBeGreaterThan(theirRevision.foreground);
});
