/**
 * The adjudication view, driven as an adjudicator uses it (as the project's owner in token browser
 * mode): three readers' labels seeded through the real reading functions, a stored consensus, the
 * queue of disputed images, toggling readers by key, "Take reader 2" and "Start from consensus" then
 * a brush stroke, "Save as final"; the label in force is read back and compared pixel by pixel.
 */
import fs from 'node:fs';
import sharp from 'sharp';
import { test, expect } from '@playwright/test';
import type { ChildProcess } from 'node:child_process';
import { saveConsensus } from '../../src/core/project/consensus';
import { addReading } from '../../src/core/project/readings';
import { ProjectStore } from '../../src/core/project/store';
import { createUser } from '../../src/core/team/users';
import { startWorkstation, stopWorkstation, tempProjectDir, type Workstation } from './fixtures';
import { seedReviewProject } from './review-seed';

const SIZE = 96;
let workstation: Workstation;
let child: ChildProcess;
let projectDir: string;
let ids: number[];

function rect(x0: number, y0: number, x1: number, y1: number): Uint8Array {
  const mask = new Uint8Array(SIZE * SIZE);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) mask[y * SIZE + x] = 255;
  return mask;
}

// Image 0: the readers disagree in place; image 1: two found nothing, one a lesion (a split);
// image 2: all three agree (not disputed).
const readings = [
  [rect(10, 10, 40, 40), rect(30, 30, 60, 60), rect(50, 50, 80, 80)],
  [rect(0, 0, 0, 0), rect(0, 0, 0, 0), rect(20, 20, 50, 50)],
  [rect(10, 10, 30, 30), rect(10, 10, 30, 30), rect(10, 10, 30, 30)],
];
const consensusOf1 = rect(24, 24, 48, 48);

test.beforeAll(async () => {
  projectDir = tempProjectDir('qataseg-e2e-adjudication-');
  ids = await seedReviewProject(projectDir, { count: 3, size: SIZE });
  const store = ProjectStore.open(projectDir);
  try {
    const db = store.db;
    const readers: number[] = [];
    for (const name of ['ana', 'bo', 'cy'])
      readers.push((await createUser(db, name, 'reader')).user.id);
    const now = new Date().toISOString();
    const plan = Number(
      db
        .prepare(
          `INSERT INTO reading_plans (name, selection, created_at) VALUES ('chest', '{}', ?)`,
        )
        .run(now).lastInsertRowid,
    );
    const assign = db.prepare(
      'INSERT INTO plan_assignments (plan_id, image_id, user_id, assigned_at) VALUES (?, ?, ?, ?)',
    );
    for (const [i, imageId] of ids.entries()) {
      for (const [r, userId] of readers.entries()) {
        assign.run(plan, imageId, userId, now);
        await addReading(db, {
          planId: plan,
          imageId,
          userId,
          mask: readings[i][r],
          width: SIZE,
          height: SIZE,
        });
      }
    }
    await saveConsensus(db, {
      planId: plan,
      imageId: ids[1],
      method: 'staple',
      probability: consensusOf1.map((v) => (v ? 230 : 20)),
      width: SIZE,
      height: SIZE,
      readers: [],
    });
  } finally {
    store.close();
  }
  ({ workstation, child } = await startWorkstation(projectDir));
});

test.afterAll(async () => {
  await stopWorkstation(child);
  fs.rmSync(projectDir, { recursive: true, force: true });
});

/** The label in force of an image, fetched by its media URL and decoded (0/255). */
async function labelInForce(imageId: number): Promise<Uint8Array> {
  const detail = await workstation.call<{ labelRevisionId: number }>('images.get', { id: imageId });
  const response = await fetch(`${workstation.baseUrl}media/mask/${detail.labelRevisionId}`, {
    headers: { 'x-qataseg-token': workstation.token },
  });
  expect(response.ok).toBe(true);
  const { data } = await sharp(Buffer.from(await response.arrayBuffer()))
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data).map((v) => (v > 0 ? 255 : 0));
}

test('an adjudicator decides disputed images; the final label is the label in force', async ({
  page,
}) => {
  await page.goto(workstation.url);
  await page.getByTestId('open-adjudication').click();
  const items = page.getByTestId('adj-queue-item');
  await expect(items).toHaveCount(2);
  await expect(items.nth(1)).toContainText('split');

  // Image 0: every reader named and shown; key 2 hides bo's label, key 2 again shows it.
  await items.nth(0).click();
  await expect(page.getByTestId('adj-reader-name-1')).toHaveText('ana');
  await expect(page.getByTestId('adj-reader-name-3')).toHaveText('cy');
  await expect(page.getByTestId('adj-from-consensus')).toBeDisabled();
  await page.getByTestId('adj-view').focus();
  await page.keyboard.press('2');
  await expect(page.getByTestId('adj-reader-2')).not.toBeChecked();
  await page.keyboard.press('2');
  await expect(page.getByTestId('adj-reader-2')).toBeChecked();
  await page.getByTestId('adj-take-2').click();
  await expect(page.getByTestId('adj-candidate')).toHaveText('Final label: reader 2');
  await page.getByTestId('adj-save').click();
  await expect(page.getByTestId('adj-notice')).toContainText('reader:bo');
  await expect(items).toHaveCount(1);
  expect(await labelInForce(ids[0])).toEqual(readings[0][1]);

  // Image 1 (the split): start from the stored consensus, show its map, then a brush stroke.
  await items.nth(0).click();
  await expect(page.getByTestId('adj-outline')).toBeChecked();
  await page.getByTestId('adj-map').check();
  await page.getByTestId('adj-from-consensus').click();
  await expect(page.getByTestId('adj-candidate')).toHaveText('Final label: consensus (staple)');
  const canvas = page.getByTestId('adj-canvas');
  const box = (await canvas.boundingBox())!;
  // A click near the bottom-right corner (image pixel (85, 85)), far from the consensus.
  await canvas.click({
    position: { x: box.width * (85.5 / SIZE), y: box.height * (85.5 / SIZE) },
  });
  await expect(page.getByTestId('adj-candidate')).toHaveText('Final label: edited');
  await page.getByTestId('adj-save').click();
  await expect(page.getByTestId('adj-notice')).toContainText('edited');
  await expect(page.getByText('No disputed image left.')).toBeVisible();

  const final = await labelInForce(ids[1]);
  const painted = final.map((v, i) => (v && !consensusOf1[i] ? 255 : 0));
  // Everything of the consensus kept, and a small disc added around (85, 85).
  expect(final.filter((v, i) => consensusOf1[i] && !v)).toHaveLength(0);
  expect(painted[85 * SIZE + 85]).toBe(255);
  const added = painted.filter((v) => v).length;
  expect(added).toBeGreaterThan(10);
  expect(added).toBeLessThan(60);
  const decided = await workstation.call<{ imageId: number; decision: { basis: string } }[]>(
    'adjudication.queue',
    { includeDecided: true },
  );
  expect(decided.map((item) => [item.imageId, item.decision.basis])).toEqual([
    [ids[0], 'reader:bo'],
    [ids[1], 'edited'],
  ]);
});
