/**
 * Import benchmark: a folder of demo phantoms (default 20,000 at 224x224, generated once and kept
 * in the temp folder), imported into a fresh project. Reports images/s of the first import and of
 * a refresh, and the time to open the project and list the first worklist page.
 *
 * DICOM beside it (`benchDicomImport`): the same phantoms as a flat folder of PNGs, as
 * uncompressed DICOM CRs (12 bits stored in 16, written by pydicom) and as JPEG lossless ones
 * (dcmtk's dcmcjpeg), each imported into a fresh project; the ratio of the PNG rate to the
 * uncompressed DICOM rate is what issue 13 bounds (at most 2).
 *
 * `npx tsx bench/import.ts [count]`, or `benchImport()` from bench/run.ts.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateDemoDataset } from '../src/core/dataset/demo';
import { importDataset } from '../src/core/dataset/import';
import { listImages } from '../src/core/project/images';
import { ProjectStore } from '../src/core/project/store';

export interface ImportBenchOptions {
  count?: number;
  size?: number;
  seed?: number;
  /** Where the generated dataset is kept between runs (default: the OS temp folder). */
  cacheDir?: string;
  log?: (line: string) => void;
}

export interface ImportBenchResult {
  count: number;
  size: number;
  generateSeconds: number | null;
  importSeconds: number;
  importImagesPerSecond: number;
  /** CPU seconds (user + system, all threads) the import used: the rate an idle machine allows. */
  importCpuSeconds: number;
  /** Load average of the machine during the run (other work shares the 2 cores). */
  loadAverage: number;
  refreshSeconds: number;
  refreshImagesPerSecond: number;
  openMs: number;
  firstPageMs: number;
  openAndFirstPageMs: number;
  /** First page of the worklist sorted by state, filtered by split (a second index path). */
  filteredPageMs: number;
}

export async function demoFolder(
  options: Required<Omit<ImportBenchOptions, 'log'>>,
  log: (line: string) => void,
) {
  const root = path.join(options.cacheDir, `demo-${options.count}-${options.size}-${options.seed}`);
  const marker = `${root}.complete`;
  if (fs.existsSync(marker)) return { root, generateSeconds: null };
  log(`generating ${options.count} phantoms of ${options.size} px in ${root} (once) ...`);
  fs.rmSync(root, { recursive: true, force: true });
  const started = performance.now();
  await generateDemoDataset(root, options);
  fs.writeFileSync(marker, new Date().toISOString());
  return { root, generateSeconds: (performance.now() - started) / 1000 };
}

export async function benchImport(options: ImportBenchOptions = {}): Promise<ImportBenchResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const settings = {
    count: options.count ?? 20_000,
    size: options.size ?? 224,
    seed: options.seed ?? 1,
    cacheDir: options.cacheDir ?? path.join(os.tmpdir(), 'qataseg-bench'),
  };
  fs.mkdirSync(settings.cacheDir, { recursive: true });
  const { root, generateSeconds } = await demoFolder(settings, log);
  const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-bench-project-'));
  try {
    let store = ProjectStore.open(projectDir);
    let started = performance.now();
    const cpuBefore = process.cpuUsage();
    const first = await importDataset(store, { root });
    const importSeconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const importCpuSeconds = (cpu.user + cpu.system) / 1e6;
    const loadAverage = os.loadavg()[0];
    if (first.report.pairs !== settings.count) {
      throw new Error(`expected ${settings.count} pairs, imported ${first.report.pairs}`);
    }
    started = performance.now();
    await importDataset(store, { root });
    const refreshSeconds = (performance.now() - started) / 1000;
    store.close();

    started = performance.now();
    store = ProjectStore.open(projectDir);
    const openMs = performance.now() - started;
    const pageStarted = performance.now();
    const page = listImages(
      store.db,
      { offset: 0, limit: 100, sort: 'name' },
      store.getMeta('active_model'),
    );
    const firstPageMs = performance.now() - pageStarted;
    if (page.total !== settings.count || page.items.length !== 100)
      throw new Error('unexpected first page');
    started = performance.now();
    listImages(store.db, { limit: 100, sort: 'state', filter: { split: 'test' } }, null);
    const filteredPageMs = performance.now() - started;
    store.close();
    const result: ImportBenchResult = {
      count: settings.count,
      size: settings.size,
      generateSeconds,
      importSeconds,
      importImagesPerSecond: settings.count / importSeconds,
      importCpuSeconds,
      loadAverage,
      refreshSeconds,
      refreshImagesPerSecond: settings.count / refreshSeconds,
      openMs,
      firstPageMs,
      openAndFirstPageMs: openMs + firstPageMs,
      filteredPageMs,
    };
    log(
      `import ${settings.count} x ${settings.size}px: ${result.importImagesPerSecond.toFixed(0)} images/s ` +
        `(${importSeconds.toFixed(1)} s, ${importCpuSeconds.toFixed(1)} CPU s, load ${loadAverage.toFixed(1)}); refresh ${result.refreshImagesPerSecond.toFixed(0)} images/s; ` +
        `open ${openMs.toFixed(1)} ms + first page ${firstPageMs.toFixed(1)} ms = ${result.openAndFirstPageMs.toFixed(1)} ms; ` +
        `filtered page ${filteredPageMs.toFixed(1)} ms`,
    );
    return result;
  } finally {
    fs.rmSync(projectDir, { recursive: true, force: true });
  }
}

export interface DicomImportBenchResult {
  count: number;
  pngImagesPerSecond: number;
  dicomImagesPerSecond: number;
  jpegLosslessImagesPerSecond: number;
  /** PNG rate / uncompressed DICOM rate: how many times longer the DICOM import takes. */
  dicomSlowdown: number;
  jpegLosslessSlowdown: number;
  /** Mean file sizes in bytes. */
  pngBytes: number;
  dicomBytes: number;
  jpegLosslessBytes: number;
}

const WRITE_DICOMS = `
import os, sys
import numpy as np
from PIL import Image
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
source, target = sys.argv[1], sys.argv[2]
study = generate_uid()
for name in sorted(os.listdir(source)):
    pixels = np.asarray(Image.open(os.path.join(source, name)).convert('L'), dtype=np.uint16) * 16
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.1'
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    out = os.path.join(target, name[:-4] + '.dcm')
    ds = FileDataset(out, {}, file_meta=meta, preamble=b'\\0' * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientID = 'BENCH'
    ds.Modality = 'CR'
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = 'MONOCHROME2'
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.WindowCenter, ds.WindowWidth = 2048, 4096
    ds.PixelData = pixels.astype('<u2').tobytes()
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(out, write_like_original=False)
`;

/** The three folders of the DICOM comparison, made once from the demo images and kept. */
export function dicomBenchFolders(demoRoot: string, cacheDir: string, count: number) {
  const base = path.join(cacheDir, `dicom-${count}`);
  const folders = {
    png: path.join(base, 'png'),
    dicom: path.join(base, 'dicom'),
    jpegLossless: path.join(base, 'jpeg-lossless'),
  };
  if (fs.existsSync(`${base}.complete`)) return folders;
  fs.rmSync(base, { recursive: true, force: true });
  for (const dir of Object.values(folders)) fs.mkdirSync(dir, { recursive: true });
  const images = ['Train Set', 'Test Set'].flatMap((set) => {
    const dir = path.join(demoRoot, set, 'Images');
    return fs.existsSync(dir) ? fs.readdirSync(dir).map((name) => path.join(dir, name)) : [];
  });
  for (const file of images) fs.copyFileSync(file, path.join(folders.png, path.basename(file)));
  execFileSync('/usr/bin/python3', ['-c', WRITE_DICOMS, folders.png, folders.dicom]);
  for (const name of fs.readdirSync(folders.dicom)) {
    execFileSync('dcmcjpeg', [
      '+e1',
      path.join(folders.dicom, name),
      path.join(folders.jpegLossless, name),
    ]);
  }
  fs.writeFileSync(`${base}.complete`, new Date().toISOString());
  return folders;
}

export async function importRate(root: string): Promise<{ perSecond: number; images: number }> {
  const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-bench-dicom-project-'));
  try {
    const store = ProjectStore.open(projectDir);
    const started = performance.now();
    const result = await importDataset(store, { root });
    const seconds = (performance.now() - started) / 1000;
    store.close();
    const images = Object.values(result.report.splits).reduce((a, b) => a + b, 0);
    if (result.report.skipped.length > 0)
      throw new Error(`${root}: skipped ${JSON.stringify(result.report.skipped.slice(0, 3))}`);
    return { perSecond: images / seconds, images };
  } finally {
    fs.rmSync(projectDir, { recursive: true, force: true });
  }
}

function meanSize(dir: string): number {
  const files = fs.readdirSync(dir);
  return (
    files.reduce((sum, name) => sum + fs.statSync(path.join(dir, name)).size, 0) / files.length
  );
}

/** PNG against uncompressed and JPEG lossless DICOM import of the same images. */
export async function benchDicomImport(
  options: ImportBenchOptions = {},
): Promise<DicomImportBenchResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const settings = {
    count: options.count ?? 2000,
    size: options.size ?? 224,
    seed: options.seed ?? 1,
    cacheDir: options.cacheDir ?? path.join(os.tmpdir(), 'qataseg-bench'),
  };
  fs.mkdirSync(settings.cacheDir, { recursive: true });
  const { root } = await demoFolder(settings, log);
  const folders = dicomBenchFolders(root, settings.cacheDir, settings.count);
  // Alternate the runs so a busy moment of the shared machine does not land on one format only.
  const rates = { png: [] as number[], dicom: [] as number[], jpegLossless: [] as number[] };
  for (let round = 0; round < 2; round++) {
    for (const key of ['png', 'dicom', 'jpegLossless'] as const)
      rates[key].push((await importRate(folders[key])).perSecond);
  }
  const best = (values: number[]) => Math.max(...values);
  const result: DicomImportBenchResult = {
    count: settings.count,
    pngImagesPerSecond: best(rates.png),
    dicomImagesPerSecond: best(rates.dicom),
    jpegLosslessImagesPerSecond: best(rates.jpegLossless),
    dicomSlowdown: best(rates.png) / best(rates.dicom),
    jpegLosslessSlowdown: best(rates.png) / best(rates.jpegLossless),
    pngBytes: meanSize(folders.png),
    dicomBytes: meanSize(folders.dicom),
    jpegLosslessBytes: meanSize(folders.jpegLossless),
  };
  log(
    `import of ${settings.count} images: PNG ${result.pngImagesPerSecond.toFixed(0)}/s, ` +
      `DICOM uncompressed ${result.dicomImagesPerSecond.toFixed(0)}/s (${result.dicomSlowdown.toFixed(2)}x the time), ` +
      `DICOM JPEG lossless ${result.jpegLosslessImagesPerSecond.toFixed(0)}/s (${result.jpegLosslessSlowdown.toFixed(2)}x)`,
  );
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const count = process.argv[2] ? Number(process.argv[2]) : undefined;
  const result = await benchImport({ count });
  console.log(JSON.stringify(result, null, 2));
  console.log(JSON.stringify(await benchDicomImport({ count }), null, 2));
}
