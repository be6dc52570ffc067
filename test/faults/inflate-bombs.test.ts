/**
 * Fault suite: compressed files that inflate far past what their header asks for, and headers
 * that lie, sent to the real `qataseg serve`. A .nii.gz whose header says one 32x32 slice
 * followed by 1 GiB of zeros (import-predictions took 2.26 GB for it), a deflated DICOM with a
 * 1 GiB private element (3.3 GB at import), a NIfTI with a negative dimension ("Invalid typed
 * array length") and a DICOM with sequences nested 10,000 deep ("Maximum call stack size
 * exceeded"). Each is refused or read within the bound, with a reason a user can act on.
 *
 * Bound: the server's peak resident memory (VmHWM) grows by less than 300 MiB over the idle server.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './fault-fixtures';
import { deflatedDicom, gzipNifti, nestedSequencesDicom, niftiHeader } from './hostile-files';
import {
  callApi,
  peakResidentBytes,
  qatasegBin,
  startServe,
  waitForJobOver,
  type ServeProcess,
} from './serve-process';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const PEAK_GROWTH_BOUND = 300 * MiB;
const SIZE = 32;

let base: string;
let serve: ServeProcess;
let baselinePeak: number | null;

function expectMemoryBound() {
  const peak = peakResidentBytes(serve);
  if (baselinePeak === null || peak === null) return; // not Linux
  expect(peak - baselinePeak, `peak RSS ${Math.round(peak / MiB)} MiB`).toBeLessThan(
    PEAK_GROWTH_BOUND,
  );
}

interface ImportReport {
  skipped: { path: string; reason: string }[];
}

beforeAll(async () => {
  base = tempDir('inflate-bombs');
  execFileSync(process.execPath, [
    qatasegBin,
    'demo',
    '--out',
    path.join(base, 'dataset'),
    '--count',
    '6',
    '--size',
    String(SIZE),
    '--project',
    path.join(base, 'project'),
  ]);
  serve = await startServe(['--project', path.join(base, 'project')]);
  baselinePeak = peakResidentBytes(serve);
}, 120_000);

afterAll(async () => {
  if (process.env.SHOW_SERVER_LOG) console.log(serve?.stderr());
  await serve?.stop();
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

describe('inflates are capped by what the header needs', () => {
  it('reads a .nii.gz prediction of one slice followed by 1 GiB of zeros within the bound, and names a negative dimension', async () => {
    const { body } = await callApi(serve, 'images.list', {});
    const names = (body.items as { name: string }[]).map((image) => image.name);
    const stem = (name: string) => name.slice(0, name.length - path.extname(name).length);
    const folder = path.join(base, 'predictions');
    fs.mkdirSync(folder);
    const slice = Buffer.alloc(SIZE * SIZE);
    slice.fill(1, 0, (SIZE * SIZE) / 2);
    fs.writeFileSync(
      path.join(folder, `${stem(names[0])}.nii.gz`),
      await gzipNifti(niftiHeader([SIZE, SIZE, 1]), slice, GiB),
    );
    fs.writeFileSync(
      path.join(folder, `${stem(names[1])}.nii.gz`),
      await gzipNifti(niftiHeader([SIZE, -1120, 1]), slice, 0),
    );
    const started = await callApi(serve, 'predictions.import', {
      folder,
      name: 'bombed',
    });
    expect(started.status, started.body.message).toBe(200);
    const job = await waitForJobOver(serve, started.body.id!);
    expect(job.state, job.error ?? '').toBe('succeeded');
    const { report } = job.result as { report: ImportReport; paired: number };
    const reasons = Object.fromEntries(report.skipped.map((item) => [item.path, item.reason]));
    expect(reasons[`${stem(names[1])}.nii.gz`]).toMatch(/dimension -1120/);
    expect(reasons[`${stem(names[0])}.nii.gz`]).toBeUndefined();
    expectMemoryBound();
  }, 120_000);

  it('skips a deflated DICOM with a 1 GiB private element at import within the bound; sequences 10,000 deep get a reason in words', async () => {
    const folder = path.join(base, 'dicoms');
    fs.mkdirSync(folder);
    fs.writeFileSync(
      path.join(folder, 'ordinary.dcm'),
      await deflatedDicom('1.2.3.4.1001', SIZE, 0),
    );
    fs.writeFileSync(path.join(folder, 'bomb.dcm'), await deflatedDicom('1.2.3.4.1002', SIZE, GiB));
    fs.writeFileSync(
      path.join(folder, 'nested.dcm'),
      nestedSequencesDicom('1.2.3.4.1003', SIZE, 10_000),
    );
    const started = await callApi(serve, 'dataset.import', { root: folder });
    expect(started.status, started.body.message).toBe(200);
    const job = await waitForJobOver(serve, started.body.id!);
    expect(job.state, job.error ?? '').toBe('succeeded');
    const { report, refresh } = job.result as {
      report: ImportReport;
      refresh: { added: number };
    };
    const reasons = Object.fromEntries(report.skipped.map((item) => [item.path, item.reason]));
    expect(reasons['bomb.dcm']).toMatch(/inflates past/);
    expect(reasons['nested.dcm']).toMatch(/nested/);
    expect(reasons['nested.dcm']).not.toMatch(/call stack/);
    expect(refresh.added, JSON.stringify(report.skipped)).toBe(1);
    expectMemoryBound();
    const { status } = await callApi(serve, 'images.list', {});
    expect(status).toBe(200);
  }, 180_000);
});
