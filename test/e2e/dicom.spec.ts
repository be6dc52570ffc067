/**
 * DICOM from the UI, in Chromium against `qataseg serve`: Open dataset imports a folder of DICOM
 * studies (fixtures by pydicom, test/fixtures/dicom/make_dicom.py); the worklist shows Patient ID
 * and study date and searches them; the viewer shows a MONOCHROME1 CR the right way round (its
 * lowest stored values white) with the file's window presets. Screenshots are kept as artifacts.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { layoutProblems } from './layout-check';
import { startWorkstation, stopWorkstation, tempProjectDir, type Workstation } from './fixtures';

const MAKER = path.resolve(import.meta.dirname, '../fixtures/dicom/make_dicom.py');
const ROWS = 128;
const CR2_UID = '1.2.826.0.1.3680043.8.498.902';
const COLUMNS = 160;
let workstation: Workstation;
let child: ChildProcess;
let datasetRoot: string;
let projectDir: string;

/** A CR whose left half stores 100 and right half 3900 (MONOCHROME1: left white, right black). */
function writeStudies(root: string): void {
  const work = tempProjectDir('qataseg-e2e-dicom-spec-');
  const values = new Int32Array(ROWS * COLUMNS).map((_, i) =>
    i % COLUMNS < COLUMNS / 2 ? 100 : 3900,
  );
  const raw = path.join(work, 'values.raw');
  fs.writeFileSync(raw, Buffer.from(values.buffer));
  const lesion = new Int32Array(ROWS * COLUMNS).map((_, i) =>
    i % COLUMNS < 40 && i < ROWS * 40 ? 1 : 0,
  );
  const lesionRaw = path.join(work, 'lesion.raw');
  fs.writeFileSync(lesionRaw, Buffer.from(lesion.buffer));
  const common = { rows: ROWS, columns: COLUMNS, raw, bitsStored: 12 };
  const specs = [
    {
      ...common,
      out: path.join(root, 'PAT-A', 'study1', 'CR1'),
      photometric: 'MONOCHROME1',
      tags: {
        PatientID: 'PAT-A',
        StudyDate: '20240301',
        ViewPosition: 'PA',
        ImagerPixelSpacing: ['0.2', '0.2'],
        WindowCenter: ['2000', '1000'],
        WindowWidth: ['4000', '1500'],
        WindowCenterWidthExplanation: ['FULL', 'NARROW'],
      },
    },
    {
      ...common,
      out: path.join(root, 'PAT-B', 'study2', 'CR2.dcm'),
      sopInstance: CR2_UID,
      tags: { PatientID: 'PAT-B', StudyDate: '20240302', ViewPosition: 'AP' },
    },
    {
      kind: 'seg',
      out: path.join(root, 'PAT-B', 'study2', 'SEG'),
      rows: ROWS,
      columns: COLUMNS,
      raw: lesionRaw,
      references: [CR2_UID],
    },
  ];
  for (const spec of specs) fs.mkdirSync(path.dirname(spec.out), { recursive: true });
  const specFile = path.join(work, 'spec.json');
  fs.writeFileSync(specFile, JSON.stringify(specs));
  execFileSync('/usr/bin/python3', [MAKER, specFile]);
  fs.rmSync(work, { recursive: true, force: true });
}

async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const file = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path: file });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
}

/**
 * The mean grey level the viewer drew around a fraction of the image's width (a tenth of it
 * either side), along the middle row of the image canvas.
 */
async function imageGrey(page: Page, fraction: number): Promise<number> {
  // A string runs in the page (this file is type-checked without the DOM's types).
  return page.evaluate<number>(`(() => {
    const canvas = document.querySelector('[data-testid=viewer] canvas');
    const context = canvas.getContext('2d');
    const data = context.getImageData(0, Math.floor(canvas.height / 2), canvas.width, 1).data;
    const lit = [];
    for (let x = 0; x < canvas.width; x++) if (data[x * 4 + 3] > 0) lit.push(x);
    const from = Math.floor(lit.length * (${fraction} - 0.1));
    const to = Math.floor(lit.length * (${fraction} + 0.1));
    let sum = 0;
    for (let i = from; i < to; i++) sum += data[lit[i] * 4];
    return sum / (to - from);
  })()`);
}

test.beforeAll(async () => {
  projectDir = tempProjectDir('qataseg-e2e-dicom-');
  datasetRoot = tempProjectDir('qataseg-e2e-dicom-data-');
  writeStudies(datasetRoot);
  ({ workstation, child } = await startWorkstation(projectDir));
});

test.afterAll(async () => {
  await stopWorkstation(child);
  fs.rmSync(projectDir, { recursive: true, force: true });
  fs.rmSync(datasetRoot, { recursive: true, force: true });
});

test('imports a DICOM folder from the UI and shows a MONOCHROME1 CR the right way round with its presets', async ({
  page,
}, testInfo) => {
  await page.goto(workstation.url);
  await page.getByTestId('open-dataset').click();
  const dialog = page.getByTestId('open-dataset-dialog');
  await dialog.getByTestId('dataset-root').fill(datasetRoot);
  await dialog.getByTestId('start-import').click();
  await expect(dialog.getByTestId('import-report')).toBeVisible({ timeout: 60_000 });
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(page.getByTestId('image-count')).toHaveText('2');

  // The worklist shows whose image it is, and finds it by Patient ID.
  await expect(page.getByTestId('worklist-row')).toHaveCount(2);
  await expect(page.getByTestId('worklist-patient')).toHaveText(['PAT-A', 'PAT-B']);
  await expect(page.getByTestId('worklist-modality').first()).toHaveText('CR');
  // The filters offer the project's own values, not a fixed list.
  await expect(page.getByTestId('worklist-filter-modality').locator('option')).toHaveText([
    'All modalities',
    'CR',
  ]);
  await expect(page.getByTestId('worklist-filter-view').locator('option')).toHaveText([
    'All views',
    'AP',
    'PA',
  ]);
  // Every column of a DICOM worklist fits, Modality and View included, at the sizes people use.
  for (const [width, height] of [
    [1280, 800],
    [1600, 1000],
  ]) {
    await page.setViewportSize({ width, height });
    expect(await layoutProblems(page, page.getByTestId('worklist'))).toEqual([]);
    // No cell's text runs into the next one ("unassigneunreviewed"): it fits, or ends clipped.
    const spilling = await page.getByTestId('worklist-scroll').evaluate((list) =>
      Array.from(list.querySelectorAll<HTMLElement>('.row > span'))
        .filter(
          (cell) =>
            getComputedStyle(cell).overflowX === 'visible' &&
            cell.scrollWidth > cell.clientWidth + 1,
        )
        .map((cell) => cell.textContent),
    );
    expect(spilling).toEqual([]);
    const header = (await page.getByTestId('worklist-header').boundingBox())!;
    const unc = (await page.getByTestId('sort-uncertainty').boundingBox())!;
    expect(unc.x + unc.width, 'Unc. inside the worklist').toBeLessThanOrEqual(
      header.x + header.width + 1,
    );
    await snap(page, testInfo, `dicom-worklist-${width}x${height}`);
  }
  await page.getByTestId('worklist-search').fill('PAT-A');
  await expect(page.getByTestId('worklist-row')).toHaveCount(1);

  await page.getByTestId('worklist-row').click();
  await expect(page.getByTestId('viewer')).toHaveAttribute('data-loading', 'false');
  await expect(page.getByTestId('dicom-facts')).toContainText('Patient PAT-A');
  await expect(page.getByTestId('dicom-facts')).toContainText('CR PA');
  // The default VOI is the first pair (FULL): MONOCHROME1's low values are white.
  await expect.poll(() => imageGrey(page, 0.25)).toBeGreaterThan(200);
  expect(await imageGrey(page, 0.75)).toBeLessThan(55);
  const presets = page.getByTestId('window-preset');
  await expect(presets.locator('option')).toContainText(['FULL (DICOM)', 'NARROW (DICOM)']);
  await snap(page, testInfo, 'dicom-monochrome1-full');
  // NARROW (1000 +- 750): 100 is below it (white), 3900 above it (black), as MONOCHROME1 wants.
  await presets.selectOption({ label: 'NARROW (DICOM)' });
  await expect(page.getByTestId('window-values')).toContainText(
    'W 1500 / L 1000 · NARROW (file preset)',
  );
  expect(await imageGrey(page, 0.25)).toBe(255);
  expect(await imageGrey(page, 0.75)).toBe(0);
  await snap(page, testInfo, 'dicom-monochrome1-narrow');
});

test('exports DICOM SEG de-identified from the Export dialog, with the segment label chosen there', async ({
  page,
}) => {
  const out = path.join(tempProjectDir('qataseg-e2e-dicom-out-'), 'seg');
  await page.goto(workstation.url);
  await page.getByTestId('open-export').click();
  await page.getByTestId('export-out').fill(out);
  await page.getByTestId('export-format').selectOption('dicom-seg');
  await page.getByTestId('export-deidentify').check();
  await expect(page.getByTestId('export-segment-name')).toHaveValue('COVID-19 infection');
  await page.getByTestId('export-segment-name').fill('Ground-glass opacity');
  await page.getByTestId('export-segment-colour').fill('#00ff00');
  await page.getByTestId('start-export').click();
  await page.getByTestId('confirm-export').click();
  await expect(page.getByTestId('export-count')).toHaveText('1', { timeout: 60_000 });
  const segs = (fs.readdirSync(out, { recursive: true }) as string[]).filter((f) =>
    f.endsWith('.dcm'),
  );
  expect(segs).toHaveLength(1);
  const bytes = fs.readFileSync(path.join(out, segs[0])).toString('latin1');
  expect(bytes).toContain('1.2.840.10008.5.1.4.1.1.66.4');
  expect(bytes).not.toContain('PAT-B');
  expect(bytes).not.toContain(CR2_UID);
  // pydicom reads the label, and the project keeps it for the next export.
  const label = execFileSync(
    '/usr/bin/python3',
    [
      '-c',
      'import sys, pydicom; print(pydicom.dcmread(sys.argv[1]).SegmentSequence[0].SegmentLabel)',
      path.join(out, segs[0]),
    ],
    { encoding: 'utf8' },
  );
  expect(label.trim()).toBe('Ground-glass opacity');
  expect(await workstation.call('export.segmentLabel')).toEqual({
    name: 'Ground-glass opacity',
    colour: '#00ff00',
  });
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
});
