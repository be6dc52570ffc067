/**
 * Import benchmark: a folder of demo phantoms (default 20,000 at 224x224, generated once and kept
 * in the temp folder), imported into a fresh project. Reports images/s of the first import and of
 * a refresh, and the time to open the project and list the first worklist page.
 *
 * `npx tsx bench/import.ts [count]`, or `benchImport()` from bench/run.ts.
 */
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

async function demoFolder(
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

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const count = process.argv[2] ? Number(process.argv[2]) : undefined;
  const result = await benchImport({ count });
  console.log(JSON.stringify(result, null, 2));
}
