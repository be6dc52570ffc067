import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test, expect } from '@playwright/test';
import { startWorkstation, stopWorkstation, tempProjectDir, type Workstation } from './fixtures';

const repoRoot = path.resolve(import.meta.dirname, '../..');
let workstation: Workstation;
let child: ChildProcess;
let datasetRoot: string;
let projectDir: string;

test.beforeAll(async () => {
  projectDir = tempProjectDir('qataseg-e2e-import-');
  datasetRoot = tempProjectDir('qataseg-e2e-dataset-');
  execFileSync(process.execPath, [
    path.join(repoRoot, 'bin/qataseg.mjs'),
    'demo',
    '--out',
    datasetRoot,
    '--count',
    '24',
    '--seed',
    '7',
    '--size',
    '96',
  ]);
  // A corrupt image must be reported, not abort the import.
  fs.writeFileSync(path.join(datasetRoot, 'Train Set', 'Images', 'broken.png'), 'not a png');
  ({ workstation, child } = await startWorkstation(projectDir));
});

test.afterAll(async () => {
  await stopWorkstation(child);
  fs.rmSync(projectDir, { recursive: true, force: true });
  fs.rmSync(datasetRoot, { recursive: true, force: true });
});

test('Open dataset imports a folder with progress and shows the validation report', async ({
  page,
}) => {
  await page.goto(workstation.url);
  await page.getByTestId('open-dataset').click();
  const dialog = page.getByTestId('open-dataset-dialog');
  await expect(dialog).toBeVisible();

  // A folder that does not exist is a clear error, and nothing starts.
  await dialog.getByTestId('dataset-root').fill(path.join(datasetRoot, 'nope'));
  await dialog.getByTestId('start-import').click();
  await expect(dialog.getByTestId('import-error')).toBeVisible();

  await dialog.getByTestId('dataset-root').fill(datasetRoot);
  await dialog.getByTestId('start-import').click();
  await expect(dialog.getByTestId('import-report')).toBeVisible({ timeout: 60_000 });
  await expect(dialog.getByTestId('report-pairs')).toHaveText('24');
  await expect(dialog.getByTestId('report-skipped')).toContainText('broken.png');
  await page.screenshot({ path: test.info().outputPath('open-dataset-report.png') });
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(page.getByTestId('image-count')).toHaveText('24');
  const state = await workstation.call<{ imageCount: number }>('project.state');
  expect(state.imageCount).toBe(24);
});

test('an import that pairs nothing is a warning saying what was looked for', async ({ page }) => {
  const empty = tempProjectDir('qataseg-e2e-empty-dataset-');
  fs.writeFileSync(path.join(empty, 'readme.txt'), 'no images here');
  try {
    await page.goto(workstation.url);
    await page.getByTestId('open-dataset').click();
    const dialog = page.getByTestId('open-dataset-dialog');
    await dialog.getByTestId('dataset-root').fill(empty);
    await dialog.getByTestId('start-import').click();
    await expect(dialog.getByTestId('report-pairs')).toHaveText('0', { timeout: 60_000 });
    const warning = dialog.getByTestId('import-warning');
    await expect(warning).toContainText('no images found: looked for folders named Images/');
    await expect(warning).toContainText('.png');
  } finally {
    fs.rmSync(empty, { recursive: true, force: true });
  }
});
