/**
 * What the review's figures and states mean, in Chromium against `qataseg serve` on a seeded
 * project (ground truth + a prediction per image): the Figures panel's Dice is the worklist's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { test as base, expect, type Page } from '@playwright/test';
import { startWorkstation, stopWorkstation, tempProjectDir, type Workstation } from './fixtures';
import { seedReviewProject } from './review-seed';

interface ListItem {
  id: number;
  dice: number | null;
  split: string;
}

const test = base.extend<object, { seeded: { workstation: Workstation; ids: number[] } }>({
  seeded: [
    // eslint-disable-next-line no-empty-pattern -- Playwright fixtures must destructure.
    async ({}, use) => {
      const projectDir = tempProjectDir('qataseg-meaning-e2e-');
      const ids = await seedReviewProject(projectDir, { count: 10, size: 128 });
      const { workstation, child } = await startWorkstation(projectDir);
      await use({ workstation, ids });
      await stopWorkstation(child);
      fs.rmSync(projectDir, { recursive: true, force: true });
    },
    { scope: 'worker' },
  ],
});

function row(page: Page, id: number) {
  return page.locator(`[data-testid=worklist-row][data-image-id="${id}"]`);
}

async function openImage(page: Page, id: number): Promise<void> {
  await row(page, id).click();
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-image-id', String(id));
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-loading', 'false');
}

test('the Figures panel compares the prediction with the label by default: its Dice is the worklist Dice', async ({
  page,
  seeded,
}) => {
  const { workstation, ids } = seeded;
  await page.goto(workstation.url);
  const list = await workstation.call<{ items: ListItem[] }>('images.list', { limit: 50 });
  for (const id of ids.slice(0, 3)) {
    await openImage(page, id);
    await expect(page.getByTestId('diff-candidate')).toHaveValue('prediction');
    await expect(page.getByTestId('diff-reference')).toHaveValue('label');
    const listed = list.items.find((item) => item.id === id)!.dice!;
    await expect(row(page, id).locator('.col-num').first()).toHaveText(listed.toFixed(3));
    await expect(page.getByTestId('figure-dice')).toHaveText(listed.toFixed(4));
  }
});

test('the uncertainty queue never offers locked-test images', async ({ page, seeded }) => {
  const { workstation } = seeded;
  await page.goto(workstation.url);
  const all = await workstation.call<{ items: ListItem[] }>('images.list', { limit: 50 });
  const offered = all.items.filter((item) => item.split !== 'test');
  expect(offered.length).toBeLessThan(all.items.length);
  await page.getByTestId('open-training').click();
  // (The disagreement queue's filter is the same one, test/renderer/queue-filter.test.ts; this
  // seeded project has no model versions to compare.)
  {
    await page.getByTestId('queue-uncertainty').click();
    await expect(page.getByTestId('worklist-total')).toHaveText(`${offered.length} images`);
    await expect(page.getByTestId('worklist-splits')).toBeVisible();
    const rows = page.getByTestId('worklist-row');
    await expect(rows).toHaveCount(offered.length);
    for (let i = 0; i < offered.length; i++) {
      await expect(rows.nth(i).locator('.col-split')).not.toHaveText('test');
    }
  }
  // Leaving the queue's split set shows every split again.
  await page.getByTestId('worklist-splits').click();
  await expect(page.getByTestId('worklist-total')).toHaveText(`${all.items.length} images`);
});

test('promoting a version worse on the locked test split asks first and says by how much', async ({
  page,
  seeded,
}) => {
  test.setTimeout(300_000);
  const { workstation } = seeded;
  const job = await workstation.call<{ id: string }>('train.start', {
    epochs: 1,
    size: 32,
    base: 4,
    batch: 4,
    promote: 'always',
  });
  await expect
    .poll(
      async () =>
        (await workstation.call<{ id: string; state: string }[]>('jobs.list')).find(
          (j) => j.id === job.id,
        )?.state,
      { timeout: 240_000 },
    )
    .toBe('succeeded');
  // v2: v1's weights, recorded 0.0500 Dice lower on the same locked test split.
  const models = path.join(workstation.projectDir, 'models');
  fs.cpSync(path.join(models, 'v1'), path.join(models, 'v2'), { recursive: true });
  const card = JSON.parse(fs.readFileSync(path.join(models, 'v1', 'card.json'), 'utf8')) as {
    version: string;
    metrics: { test: { dice: number } };
  };
  card.version = 'v2';
  card.metrics.test.dice -= 0.05;
  fs.writeFileSync(path.join(models, 'v2', 'card.json'), JSON.stringify(card));

  await page.goto(workstation.url);
  await page.getByTestId('open-training').click();
  await expect(page.getByTestId('comparison')).toContainText('v2 vs active v1');
  await page.getByTestId('promote-v2').click();
  await expect(page.getByTestId('promote-confirm')).toContainText('worse than the active v1');
  await expect(page.getByTestId('promote-shortfall')).toHaveText('0.0500');
  await page.getByTestId('promote-cancel').click();
  const v1Row = page.locator('[data-testid=version-row][data-version=v1]');
  const v2Row = page.locator('[data-testid=version-row][data-version=v2]');
  await expect(v1Row).toHaveAttribute('data-active', 'true');
  await page.getByTestId('promote-v2').click();
  await page.getByTestId('promote-anyway').click();
  await expect(v2Row).toHaveAttribute('data-active', 'true');

  // What changed for v2 (against v1, active before it): neither version has predictions yet, so
  // the queue predicts both where needed, then opens sorted, badges and all, and says what it
  // compared. (The note while it works can come and go between two polls on 10 small images: the
  // renderer test drives it step by step.)
  await page.getByTestId('queue-changed').click();
  await expect(page.getByTestId('queue-note')).toHaveText(
    /^Compared v2 with v1 on \d+ images: the worklist is sorted by what changed\.$/,
    { timeout: 120_000 },
  );
  await expect(page.getByTestId('worklist-row').first().getByTestId('queue-badge')).toContainText(
    'changed',
  );
  const changed = await workstation.call<{ items: { changed: number | null }[] }>('images.list', {
    sort: 'changed',
    changesOf: 'v2',
    limit: 50,
  });
  expect(changed.items.every((item) => item.changed !== null)).toBe(true);
  await expect(page.getByTestId('queue-note')).toContainText(`on ${changed.items.length} images`);
});

test('marking an image with a lesion negative asks: keep the label, or clear it; undo returns the state', async ({
  page,
  seeded,
}) => {
  const { workstation, ids } = seeded;
  const id = ids[3];
  const get = () =>
    workstation.call<{ reviewState: string; correctionRevisionId: number | null }>('images.get', {
      id,
    });
  await page.goto(workstation.url);
  await openImage(page, id);
  await page.getByTestId('review-state-negative').click();
  const ask = page.getByTestId('negative-ask');
  await expect(ask).toContainText('The label has a lesion');
  // Keep: the label stays and the image is not negative.
  await page.getByTestId('negative-keep').click();
  await expect(ask).toHaveCount(0);
  expect((await get()).reviewState).toBe('unreviewed');
  await expect(page.getByTestId('review-state-unreviewed')).toHaveAttribute('aria-checked', 'true');

  // Clear: the label is emptied (an edit) and the image is negative.
  await page.getByTestId('review-state-negative').click();
  await page.getByTestId('negative-clear').click();
  await expect(page.getByTestId('review-state-negative')).toHaveAttribute('aria-checked', 'true');
  await expect(row(page, id)).toHaveAttribute('data-state', 'negative');
  const cleared = await get();
  expect(cleared.reviewState).toBe('negative');
  expect(cleared.correctionRevisionId).not.toBeNull();

  // Undo back to the ground truth: the lesion returns, and so does the state from before.
  await page.getByTestId('undo').click();
  await expect(page.getByTestId('review-state-unreviewed')).toHaveAttribute('aria-checked', 'true');
  await expect(row(page, id)).toHaveAttribute('data-state', 'unreviewed');
  expect(await get()).toMatchObject({ reviewState: 'unreviewed', correctionRevisionId: null });
});
