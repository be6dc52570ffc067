import { execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test, expect } from '@playwright/test';
import { startWorkstation, stopWorkstation, tempProjectDir, type Workstation } from './fixtures';
import { expectCleanLayout } from './layout-check';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const COUNT = 120;
let workstation: Workstation;
let child: ChildProcess;
let base: string;

test.beforeAll(async () => {
  base = tempProjectDir('qataseg-e2e-export-');
  execFileSync(process.execPath, [
    path.join(repoRoot, 'bin/qataseg.mjs'),
    'demo',
    '--out',
    path.join(base, 'dataset'),
    '--count',
    String(COUNT),
    '--seed',
    '5',
    '--size',
    '96',
    '--project',
    path.join(base, 'project'),
  ]);
  ({ workstation, child } = await startWorkstation(path.join(base, 'project')));
});

test.afterAll(async () => {
  await stopWorkstation(child);
  fs.rmSync(base, { recursive: true, force: true });
});

test('Export writes the masks with progress, a manifest, and refuses to overwrite', async ({
  page,
}) => {
  const out = path.join(base, 'exported');
  await page.goto(workstation.url);
  await page.getByTestId('open-export').click();
  const dialog = page.getByTestId('export-dialog');
  await expect(dialog).toBeVisible();

  // Inside the dataset folder: refused with a clear message, nothing written.
  await dialog.getByTestId('export-out').fill(path.join(base, 'dataset', 'masks'));
  await dialog.getByTestId('start-export').click();
  await expect(dialog.getByTestId('export-error')).toContainText('inside the dataset folder');
  expect(fs.existsSync(path.join(base, 'dataset', 'masks'))).toBe(false);

  // A relative folder is relative to the project folder. Export… only plans: the absolute target
  // and what will be written are on screen, and nothing is written until Write is clicked.
  await dialog.getByTestId('export-out').fill('../exported');
  await expect(dialog.getByTestId('export-description')).toContainText('Ground-truths/mask_');
  await dialog.getByTestId('start-export').click();
  await expect(dialog.getByTestId('export-target')).toHaveText(out);
  await expect(dialog.getByTestId('export-plan')).toContainText(`${COUNT} masks to write`);
  expect(fs.existsSync(out)).toBe(false);
  // Another format withdraws the plan and says what that format writes.
  await dialog.getByTestId('export-format').selectOption('dicom-seg');
  await expect(dialog.getByTestId('export-plan')).toBeHidden();
  await expect(dialog.getByTestId('export-description')).toContainText('seg_');
  await expect(dialog.getByTestId('export-description')).not.toContainText('mask_');
  await dialog.getByTestId('export-format').selectOption('png');
  await dialog.getByTestId('start-export').click();
  await expect(dialog.getByTestId('export-plan')).toContainText(`${COUNT} masks to write`);
  expect(fs.existsSync(out)).toBe(false);

  // The dialog with its plan fits the window at the sizes people use.
  for (const [width, height] of [
    [1280, 800],
    [1600, 1000],
  ]) {
    await page.setViewportSize({ width, height });
    await expectCleanLayout(
      page,
      dialog,
      test.info().outputPath(`export-dialog-${width}x${height}.png`),
    );
  }
  await dialog.getByTestId('confirm-export').click();
  // The job row (progress bar and Cancel while it runs) appears, then the result.
  await expect(dialog.getByTestId('job-export')).toBeVisible();
  await expect(dialog.getByTestId('export-result')).toBeVisible({ timeout: 60_000 });
  await expect(dialog.getByTestId('job-export')).toHaveAttribute('data-state', 'succeeded');
  await expect(dialog.getByTestId('export-count')).toHaveText(String(COUNT));
  await page.screenshot({ path: test.info().outputPath('export-result.png') });

  const jobs = await workstation.call<{ kind: string; done: number; total: number }[]>('jobs.list');
  const job = jobs.find((candidate) => candidate.kind === 'export')!;
  expect(job.done).toBe(COUNT);
  expect(job.total).toBe(COUNT);

  const manifest = fs.readFileSync(path.join(out, 'manifest.csv'), 'utf8').trim().split(/\r\n/);
  expect(manifest).toHaveLength(COUNT + 1);
  const [, maskFile, , , , , , , sha] = manifest[1].split(',');
  expect(maskFile).toMatch(/Ground-truths\/mask_/);
  expect(
    createHash('sha256')
      .update(fs.readFileSync(path.join(out, maskFile)))
      .digest('hex'),
  ).toBe(sha);

  // Again without "replace": refused before anything is written, the conflicts named; the
  // previous run's result is gone, the target and its conflicts are shown.
  await dialog.getByTestId('start-export').click();
  await expect(dialog.getByTestId('export-error')).toContainText('already exist');
  await expect(dialog.getByTestId('confirm-export')).toBeDisabled();
  await expect(dialog.getByTestId('export-result')).toBeHidden();
  await expect(dialog.getByTestId('export-target')).toHaveText(out);
  await expect(dialog.getByTestId('export-plan')).toContainText(`${COUNT + 1} files already exist`);
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toBeHidden();
});
