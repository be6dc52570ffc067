/**
 * PACS from the UI, in Chromium against `qataseg serve` and a real Orthanc (test/unit/pacs-orthanc.ts)
 * holding 20 CR/DX instances (pydicom, test/fixtures/dicom/make_dicom.py) stored with dcmtk's
 * storescu: the PACS dialog opens by its key, a connection is added and tested, a search finds
 * the studies with their series and instance counts, a study and a series are retrieved (progress,
 * import report) and the worklist shows them; one image is corrected with the brush, and the
 * Export dialog's "Send to PACS" stores its SEG by STOW-RS. Orthanc's copy, read by pydicom,
 * references the source's study, series and SOP Instance UID.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { startWorkstation, stopWorkstation, tempProjectDir, type Workstation } from './fixtures';
import { pressAction } from './editor-actions';
import { freePort, orthancAvailable, startOrthanc, type Orthanc } from '../unit/pacs-orthanc';

const MAKER = path.resolve(import.meta.dirname, '../fixtures/dicom/make_dicom.py');
const ROWS = 96;
const COLUMNS = 112;
const STUDY_CR = '1.2.826.0.1.3680043.8.498.5100';
const STUDY_DX = '1.2.826.0.1.3680043.8.498.5200';
const CR_SERIES = [`${STUDY_CR}.1`, `${STUDY_CR}.2`];
const DX_SERIES = [`${STUDY_DX}.1`, `${STUDY_DX}.2`];

let orthanc: Orthanc;
let workstation: Workstation;
let child: ChildProcess;
let projectDir: string;
let sources: string;

/** 20 chest phantoms: a CR study of 12 (two series of 6) and a DX study of 8 (two series of 4). */
function writePhantoms(root: string): string[] {
  const raw = path.join(root, 'values.raw');
  const values = new Int32Array(ROWS * COLUMNS).map((_, i) => {
    const x = (i % COLUMNS) - COLUMNS / 2;
    const y = Math.floor(i / COLUMNS) - ROWS / 2;
    // Two lung fields, darker than the body around them.
    const lung = Math.abs(Math.abs(x) - 24) < 14 && Math.abs(y) < 34;
    return lung ? 700 + ((x * 7 + y * 3) & 127) : 2600;
  });
  fs.writeFileSync(raw, Buffer.from(values.buffer));
  const specs: Record<string, unknown>[] = [];
  const add = (study: string, series: string, n: number, modality: 'CR' | 'DX') =>
    specs.push({
      out: path.join(root, `${series}.${n}.dcm`),
      rows: ROWS,
      columns: COLUMNS,
      raw,
      bitsStored: 12,
      study,
      series,
      sopInstance: `${series}.${n}`,
      ...(modality === 'DX' ? { sopClass: '1.2.840.10008.5.1.4.1.1.1.1' } : {}),
      tags: {
        Modality: modality,
        PatientID: modality === 'CR' ? 'PACS-E2E-1' : 'PACS-E2E-2',
        PatientName: modality === 'CR' ? 'Chest^Cr' : 'Chest^Dx',
        StudyDate: modality === 'CR' ? '20240105' : '20240210',
        AccessionNumber: modality === 'CR' ? 'ACC-CR' : 'ACC-DX',
        BodyPartExamined: 'CHEST',
        SeriesNumber: String(Number(series.slice(-1))),
        InstanceNumber: String(n),
      },
    });
  for (const series of CR_SERIES) for (let n = 1; n <= 6; n++) add(STUDY_CR, series, n, 'CR');
  for (const series of DX_SERIES) for (let n = 1; n <= 4; n++) add(STUDY_DX, series, n, 'DX');
  const specFile = path.join(root, 'spec.json');
  fs.writeFileSync(specFile, JSON.stringify(specs));
  execFileSync('/usr/bin/python3', [MAKER, specFile]);
  return specs.map((spec) => spec.out as string);
}

test.skip(!orthancAvailable(), 'needs Debian orthanc, orthanc-dicomweb and dcmtk');

test.beforeAll(async () => {
  sources = tempProjectDir('qataseg-e2e-pacs-src-');
  orthanc = await startOrthanc();
  orthanc.store(writePhantoms(sources));
  projectDir = tempProjectDir('qataseg-e2e-pacs-');
  ({ workstation, child } = await startWorkstation(projectDir));
});

test.afterAll(async () => {
  if (child) await stopWorkstation(child);
  await orthanc?.stop();
  fs.rmSync(projectDir, { recursive: true, force: true });
  fs.rmSync(sources, { recursive: true, force: true });
});

test('search and retrieve from the PACS dialog, correct one image, send its SEG back by STOW-RS', async ({
  page,
}, testInfo) => {
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.goto(workstation.url);
  await expect(page.getByTestId('review-screen')).toBeVisible();

  // Opened by its registry key (its button and the File menu run the same action).
  await pressAction(page, 'project.pacs');
  const dialog = page.getByTestId('pacs-dialog');
  await expect(dialog).toBeVisible();
  await dialog.getByTestId('pacs-add-name').fill('orthanc');
  await dialog.getByTestId('pacs-add-url').fill(orthanc.dicomweb);
  await dialog.getByTestId('pacs-add-save').click();
  await expect(dialog.getByTestId('pacs-connection')).toHaveValue('orthanc');
  await dialog.getByTestId('pacs-test').click();
  await expect(dialog.getByTestId('pacs-echo')).toHaveAttribute('data-ok', 'true');

  // A server nobody answers at: Test connection and Search say so, naming it.
  const deadUrl = `http://127.0.0.1:${await freePort()}/dicom-web`;
  await dialog.getByTestId('pacs-add').click();
  await dialog.getByTestId('pacs-add-name').fill('nowhere');
  await dialog.getByTestId('pacs-add-url').fill(deadUrl);
  await dialog.getByTestId('pacs-add-save').click();
  await expect(dialog.getByTestId('pacs-connection')).toHaveValue('nowhere');
  await dialog.getByTestId('pacs-test').click();
  await expect(dialog.getByTestId('pacs-echo')).toHaveAttribute('data-ok', 'false');
  await expect(dialog.getByTestId('pacs-echo')).toContainText(
    `PACS nowhere (${deadUrl}): a QIDO-RS probe failed: the server could not be reached`,
  );
  await dialog.getByTestId('pacs-search').click();
  await expect(dialog.getByTestId('pacs-error')).toContainText(`PACS nowhere (${deadUrl})`);
  await dialog.getByTestId('pacs-remove').click();
  await expect(dialog.getByTestId('pacs-connection')).toHaveValue('orthanc');

  // Search: both studies of the chest, with their series and instance counts.
  await dialog.getByTestId('pacs-search-patientId').fill('PACS-E2E-*');
  await dialog.getByTestId('pacs-search-bodyPart').fill('CHEST');
  await dialog.getByTestId('pacs-search').click();
  const studies = dialog.getByTestId('pacs-study');
  await expect(studies).toHaveCount(2);
  const cr = dialog.locator(`[data-testid=pacs-study][data-uid="${STUDY_CR}"]`);
  const dx = dialog.locator(`[data-testid=pacs-study][data-uid="${STUDY_DX}"]`);
  await expect(cr.getByTestId('pacs-study-instances')).toHaveText('12');
  await expect(cr.getByTestId('pacs-series-instances')).toHaveText(['6', '6']);
  await expect(dx.getByTestId('pacs-series-instances')).toHaveText(['4', '4']);
  // Narrowed by modality: the DX study only.
  await dialog.getByTestId('pacs-search-modality').fill('DX');
  await dialog.getByTestId('pacs-search').click();
  await expect(studies).toHaveCount(1);
  await expect(studies).toHaveAttribute('data-uid', STUDY_DX);
  await dialog.getByTestId('pacs-search-modality').fill('');
  await dialog.getByTestId('pacs-search').click();
  await expect(studies).toHaveCount(2);

  // The whole CR study and the first DX series: 12 + 4 instances.
  await cr.getByTestId('pacs-study-select').check();
  await dx.getByTestId('pacs-series-select').first().check();
  await expect(dialog.getByTestId('pacs-selection')).toHaveText('2 chosen');
  await dialog.getByTestId('pacs-retrieve').click();
  const outcomes = dialog.getByTestId('pacs-retrieve-outcome');
  await expect(outcomes).toHaveCount(2, { timeout: 60_000 });
  await expect(outcomes.nth(0)).toHaveAttribute('data-state', 'done');
  await expect(outcomes.nth(1)).toHaveAttribute('data-state', 'done');
  await expect(outcomes.getByTestId('pacs-retrieve-counts')).toHaveText([
    /12 listed, 12 fetched, 0 already held, 0 failed/,
    /4 listed, 4 fetched, 0 already held, 0 failed/,
  ]);
  await expect(outcomes.getByTestId('import-report').first()).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('pacs-dialog.png') });
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toBeHidden();

  // The worklist follows by itself.
  await expect(page.getByTestId('image-count')).toHaveText('16');
  await expect(page.getByTestId('worklist-row')).toHaveCount(16);
  // Its button opens it again, on the connection in use.
  await page.getByTestId('open-pacs').click();
  await expect(dialog.getByTestId('pacs-connection')).toHaveValue('orthanc');
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toBeHidden();

  // Open one image and correct it with the brush.
  await page.getByTestId('worklist-row').first().click();
  const viewer = page.getByTestId('viewer');
  await expect(viewer).toHaveAttribute('data-loading', 'false');
  const imageId = Number(await viewer.getAttribute('data-image-id'));
  await pressAction(page, 'tool.brush');
  const box = (await viewer.boundingBox())!;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  await page.mouse.move(cx - 60, cy - 20);
  await page.mouse.down();
  for (let i = 1; i <= 12; i++) await page.mouse.move(cx - 60 + i * 10, cy - 20 + i);
  await page.mouse.up();
  await expect(page.getByTestId('save-status')).toHaveText('saved');
  await pressAction(page, 'review.corrected');
  const detail = () =>
    workstation.call<{ reviewState: string; dicom?: { sopInstanceUid: string } | null }>(
      'images.get',
      { id: imageId },
    );
  await expect.poll(async () => (await detail()).reviewState).toBe('corrected');
  const sourceUid = (await detail()).dicom!.sopInstanceUid;

  // Export dialog: Send to PACS, the label in force.
  await page.getByTestId('open-export').click();
  const exportDialog = page.getByTestId('export-dialog');
  const send = exportDialog.getByTestId('pacs-send');
  await expect(send.getByTestId('pacs-send-connection')).toHaveValue('orthanc');
  await send.getByTestId('pacs-send-source').selectOption('label');
  await send.getByTestId('pacs-send-start').click();
  await expect(send.getByTestId('pacs-send-counts')).toHaveText(
    /^1 stored, 0 failed, 15 skipped on orthanc/,
    { timeout: 30_000 },
  );
  await expect(send.getByTestId('pacs-send-instance')).toHaveAttribute('data-status', 'stored');
  await page.screenshot({ path: testInfo.outputPath('send-to-pacs.png') });

  // Orthanc's own copy, read by pydicom: the SEG references the corrected image.
  const segs = await orthanc.restPost<string[]>('/tools/find', {
    Level: 'Instance',
    Query: { Modality: 'SEG' },
  });
  expect(segs).toHaveLength(1);
  const file = testInfo.outputPath('seg.dcm');
  fs.writeFileSync(file, await orthanc.restBytes(`/instances/${segs[0]}/file`));
  const read = JSON.parse(
    execFileSync(
      '/usr/bin/python3',
      [
        '-c',
        `import sys, json, pydicom
ds = pydicom.dcmread(sys.argv[1])
ref = ds.ReferencedSeriesSequence[0]
print(json.dumps({"study": ds.StudyInstanceUID, "series": ref.SeriesInstanceUID,
  "refs": [item.ReferencedSOPInstanceUID for item in ref.ReferencedInstanceSequence],
  "frameRef": ds.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID,
  "ones": int(ds.pixel_array.sum())}))`,
        file,
      ],
      { encoding: 'utf8' },
    ),
  ) as { study: string; series: string; refs: string[]; frameRef: string; ones: number };
  const sourceSeries = sourceUid.slice(0, sourceUid.lastIndexOf('.'));
  expect(read).toMatchObject({
    study: sourceUid.startsWith(STUDY_CR) ? STUDY_CR : STUDY_DX,
    series: sourceSeries,
    refs: [sourceUid],
    frameRef: sourceUid,
  });
  expect(read.ones).toBeGreaterThan(0);
});
