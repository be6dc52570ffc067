/**
 * What a page shows follows the host, in Chromium against `qataseg serve`:
 * - a refresh import that changed the file behind an image id shows the new pixels and thumbnail
 *   (decoded images are cached by content hash, not by id);
 * - a review made in a second window shows in this window's worklist and open image.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { test, expect, type Page } from '@playwright/test';
import { startWorkstation, stopWorkstation, tempProjectDir, type Workstation } from './fixtures';
import { pressAction } from './editor-actions';

const repoRoot = path.resolve(import.meta.dirname, '../..');
let workstation: Workstation;
let child: ChildProcess;
let datasetRoot: string;
let projectDir: string;

interface Item {
  id: number;
  relPath: string;
}

async function importDataset(): Promise<void> {
  const job = await workstation.call<{ id: string }>('dataset.import', { root: datasetRoot });
  await expect
    .poll(
      async () =>
        (await workstation.call<{ id: string; state: string }[]>('jobs.list')).find(
          (candidate) => candidate.id === job.id,
        )?.state,
      { timeout: 60_000 },
    )
    .toBe('succeeded');
}

async function items(): Promise<Item[]> {
  return (await workstation.call<{ items: Item[] }>('images.list', { limit: 100 })).items;
}

test.beforeAll(async () => {
  projectDir = tempProjectDir('qataseg-e2e-sync-');
  datasetRoot = tempProjectDir('qataseg-e2e-sync-dataset-');
  execFileSync(process.execPath, [
    path.join(repoRoot, 'bin/qataseg.mjs'),
    'demo',
    '--out',
    datasetRoot,
    '--count',
    '4',
    '--seed',
    '3',
    '--size',
    '96',
  ]);
  ({ workstation, child } = await startWorkstation(projectDir));
  await importDataset();
});

test.afterAll(async () => {
  await stopWorkstation(child);
  fs.rmSync(projectDir, { recursive: true, force: true });
  fs.rmSync(datasetRoot, { recursive: true, force: true });
});

const row = (page: Page, id: number) =>
  page.locator(`[data-testid=worklist-row][data-image-id="${id}"]`);

async function openImage(page: Page, id: number): Promise<void> {
  await row(page, id).click();
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-image-id', String(id));
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-loading', 'false');
}

/** The grey level the viewer paints at its centre (the image layer's canvas). */
async function centreGrey(page: Page): Promise<number> {
  return page
    .locator('[data-testid=viewer] canvas')
    .first()
    .evaluate((canvas: HTMLCanvasElement) => {
      const context = canvas.getContext('2d')!;
      return context.getImageData(canvas.width >> 1, canvas.height >> 1, 1, 1).data[0];
    });
}

test('a refresh import that changed an image file shows the new pixels and thumbnail', async ({
  page,
}) => {
  const [first, second] = await items();
  await page.setViewportSize({ width: 1400, height: 850 });
  await page.goto(workstation.url);
  await openImage(page, first.id);
  // Only the image layer: masks would tint the centre.
  await page.getByTestId('layer-visible-ground-truth').uncheck();
  await page.getByTestId('layer-visible-label').uncheck();
  await expect.poll(() => centreGrey(page)).toBeGreaterThanOrEqual(0);
  const before = await centreGrey(page);
  const thumbnailBefore = await row(page, first.id).locator('img').getAttribute('src');

  // The file behind the id changes on disk (same name, same size): a flat field far from before.
  const file = path.join(datasetRoot, first.relPath);
  const { width, height } = await sharp(file).metadata();
  const level = before < 128 ? 255 : 0;
  await sharp(Buffer.alloc(width * height, level), {
    raw: { width, height, channels: 1 },
  })
    .png()
    .toFile(`${file}.new.png`);
  fs.renameSync(`${file}.new.png`, file);
  await importDataset();

  // Switch away and back, as a reviewer would: the new pixels, not the ones cached for the id.
  await openImage(page, second.id);
  await openImage(page, first.id);
  await expect.poll(() => centreGrey(page)).toBe(level);
  await expect(row(page, first.id).locator('img')).not.toHaveAttribute('src', thumbnailBefore!);
});

test("a review made in a second window shows in this window's worklist and open image", async ({
  page,
}) => {
  const [, , third, fourth] = await items();
  await page.goto(workstation.url);
  await openImage(page, third.id);
  await expect(row(page, fourth.id)).toHaveAttribute('data-state', 'unreviewed');

  const other = await page.context().newPage();
  await other.goto(workstation.url);
  await openImage(other, fourth.id);
  await pressAction(other, 'review.accepted');
  await openImage(other, third.id);
  await pressAction(other, 'review.flagged');

  await expect(row(page, fourth.id)).toHaveAttribute('data-state', 'accepted');
  await expect(row(page, third.id)).toHaveAttribute('data-state', 'flagged');
  await expect(page.getByTestId('review-state-flagged')).toHaveAttribute('aria-checked', 'true');
  await other.close();
});
