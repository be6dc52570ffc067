/**
 * The research interop in the UI, in Chromium against `qataseg serve`: a trained version exported
 * as ONNX from its row; an external ONNX model (made by onnx.helper) added through the form that
 * shows the graph's shapes, chooses nothing by itself and refuses a config that does not fit,
 * then tested on the locked test split with its source in the table and on its card; a folder of
 * predictions imported with its report; the dataset exported for nnU-Net from the Export dialog.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { startWorkstation, stopWorkstation, tempProjectDir, type Workstation } from './fixtures';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const qataseg = (...args: string[]) =>
  execFileSync(process.execPath, [path.join(repoRoot, 'bin/qataseg.mjs'), ...args], {
    encoding: 'utf8',
  });
let workstation: Workstation;
let child: ChildProcess;
let base: string;
let onnxFile: string;

test.beforeAll(async () => {
  test.setTimeout(240_000);
  base = tempProjectDir('qataseg-e2e-interop-');
  const project = path.join(base, 'project');
  qataseg(
    'demo',
    '--out',
    path.join(base, 'dataset'),
    '--count',
    '24',
    '--seed',
    '7',
    '--size',
    '64',
    '--project',
    project,
  );
  qataseg(
    'train',
    '--project',
    project,
    '--epochs',
    '1',
    '--size',
    '32',
    '--base',
    '4',
    '--backend',
    'onnxruntime',
  );
  onnxFile = path.join(base, 'nhwc3.onnx');
  execFileSync('/usr/bin/python3', [
    path.join(repoRoot, 'test/fixtures/python/make_onnx.py'),
    'nhwc3',
    onnxFile,
  ]);
  ({ workstation, child } = await startWorkstation(project));
});

test.afterAll(async () => {
  await stopWorkstation(child);
  fs.rmSync(base, { recursive: true, force: true });
});

test('export ONNX, add an ONNX model through its form, import predictions, export nnU-Net', async ({
  page,
}) => {
  test.setTimeout(240_000);
  await page.setViewportSize({ width: 1500, height: 1000 });
  await page.goto(workstation.url);
  await page.getByTestId('open-training').click();
  const panel = page.getByTestId('training-panel');
  await expect(panel.locator('[data-testid=version-row][data-version=v1]')).toBeVisible();

  // v1 out as ONNX from its row.
  const exported = path.join(base, 'exported', 'unet.onnx');
  await panel.getByTestId('export-onnx-v1').click();
  await panel.getByTestId('export-onnx-path').fill(exported);
  await panel.getByTestId('export-onnx-run').click();
  await expect(panel.getByTestId('export-onnx-result')).toContainText('unet.onnx');
  expect(fs.existsSync(exported)).toBe(true);
  expect(fs.existsSync(path.join(base, 'exported', 'model.json'))).toBe(true);

  // An external model: its shapes are shown and nothing is chosen for the user.
  await panel.getByTestId('add-model-open').click();
  const form = panel.getByTestId('add-model-form');
  await form.getByTestId('add-model-path').fill(onnxFile);
  await form.getByTestId('add-model-read').click();
  await expect(form.getByTestId('add-model-graph')).toContainText(
    'input pixels: float [N, H, W, 3]',
  );
  await expect(form.getByTestId('add-model-graph')).toContainText(
    'output logits: float [N, H, W, 1]',
  );
  await expect(form.getByTestId('add-model-layout')).toHaveValue('');
  await expect(form.getByTestId('add-model-run')).toBeDisabled();
  await expect(form.getByTestId('add-model-missing')).toContainText('the input layout');

  // A config that does not fit the graph is refused with the reason.
  await form.getByTestId('add-model-layout').selectOption('NCHW');
  await form.getByTestId('add-model-channels').selectOption('1');
  await form.getByTestId('add-model-size').fill('dynamic');
  await form.getByTestId('add-model-scaling').selectOption('0..1');
  await form.getByTestId('add-model-activation').selectOption('logits');
  await form.getByTestId('add-model-classes').fill('1');
  await form.getByTestId('add-model-name').fill('bright');
  await form.getByTestId('add-model-run').click();
  await expect(form.getByTestId('add-model-error')).toContainText('is the layout NHWC?');

  await form.getByTestId('add-model-layout').selectOption('NHWC');
  await form.getByTestId('add-model-channels').selectOption('3');
  await form.getByTestId('add-model-run').click();
  await expect(form.getByTestId('add-model-result')).toContainText('Added bright: test Dice', {
    timeout: 120_000,
  });
  const row = panel.locator('[data-testid=version-row][data-version=bright]');
  await expect(row.getByTestId('version-source')).toHaveText('ONNX nhwc3.onnx');
  await panel.getByTestId('version-open-bright').click();
  const card = panel.getByTestId('version-card');
  await expect(card.getByTestId('version-card-source')).toContainText(
    `ONNX model from ${onnxFile}`,
  );
  await expect(card.getByTestId('version-card-test')).toContainText('Dice');

  // The file exported above has its model.json beside it: the form fills itself from it, and
  // the model goes in without a field typed.
  await form.getByTestId('add-model-path').fill(exported);
  await form.getByTestId('add-model-read').click();
  await expect(form.getByTestId('add-model-beside')).toContainText(
    `Filled in from ${path.join(base, 'exported', 'model.json')}`,
  );
  await expect(form.getByTestId('add-model-layout')).toHaveValue('NCHW');
  await expect(form.getByTestId('add-model-channels')).toHaveValue('1');
  await expect(form.getByTestId('add-model-missing')).toHaveCount(0);
  await form.getByTestId('add-model-name').fill('roundtrip');
  await form.getByTestId('add-model-run').click();
  await expect(form.getByTestId('add-model-result')).toContainText('Added roundtrip: test Dice', {
    timeout: 120_000,
  });

  // Predictions from elsewhere: here the dataset's own masks of five images, as a folder.
  const predictions = path.join(base, 'predictions');
  fs.mkdirSync(predictions);
  const masks = fs
    .readdirSync(path.join(base, 'dataset'), { recursive: true, encoding: 'utf8' })
    .filter((file) => /mask_.*\.png$/.test(file))
    .slice(0, 5);
  for (const file of masks)
    fs.copyFileSync(path.join(base, 'dataset', file), path.join(predictions, path.basename(file)));
  fs.writeFileSync(path.join(predictions, 'notes.txt'), 'not a mask');
  await panel.getByTestId('import-predictions-open').click();
  const imports = panel.getByTestId('import-predictions-form');
  await imports.getByTestId('import-predictions-folder').fill(predictions);
  await imports.getByTestId('import-predictions-name').fill('elsewhere');
  await imports.getByTestId('import-predictions-run').click();
  await expect(imports.getByTestId('import-predictions-result')).toContainText(
    'elsewhere: 5 pairs',
    {
      timeout: 60_000,
    },
  );
  await expect(imports.getByTestId('import-predictions-result')).toContainText(
    'notes.txt: not a prediction format',
  );
  await expect(
    panel
      .locator('[data-testid=version-row][data-version=elsewhere]')
      .getByTestId('version-source'),
  ).toHaveText('predictions predictions');
  await expect(panel.getByTestId('export-onnx-elsewhere')).toHaveCount(0);

  // The dataset for nnU-Net from the Export dialog.
  await page.getByRole('button', { name: 'Close training panel' }).click();
  await page.getByTestId('open-export').click();
  const dialog = page.getByTestId('export-dialog');
  const out = path.join(base, 'nnunet');
  await dialog.getByTestId('export-out').fill(out);
  await dialog.getByTestId('export-format').selectOption('nnunet');
  await dialog.getByTestId('export-dataset-id').fill('42');
  await dialog.getByTestId('export-dataset-name').fill('Demo');
  await dialog.getByTestId('start-export').click();
  await dialog.getByTestId('confirm-export').click();
  await expect(dialog.getByTestId('export-result')).toBeVisible({ timeout: 60_000 });
  const dataset = JSON.parse(
    fs.readFileSync(path.join(out, 'Dataset042_Demo', 'dataset.json'), 'utf8'),
  ) as { numTraining: number; file_ending: string };
  expect(dataset.file_ending).toBe('.png');
  expect(dataset.numTraining).toBeGreaterThan(0);
});
