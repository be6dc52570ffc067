/**
 * DICOM import and first display per transfer syntax, beside PNG (issue 21): the bench's
 * uncompressed CRs (12 bits in 16, pydicom) transcoded by dcmtk and GDCM into every syntax the
 * import decodes, each folder imported into a fresh project (import decodes a compressed frame
 * once) and each file turned into the PNG the viewer shows first (`imageToGrayPng`).
 *
 * `npx tsx bench/dicom-syntaxes.ts [count]`, or `benchDicomSyntaxes()` from bench/run.ts.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { imageToGrayPng } from '../src/core/dataset/decode';
import { demoFolder, dicomBenchFolders, importRate, type ImportBenchOptions } from './import';

/** How each syntax is written from the uncompressed file: tool and its arguments. */
const TRANSCODERS: Record<string, [string, string[]]> = {
  'explicit-big-endian': ['dcmconv', ['+tb']],
  'rle-lossless': ['dcmcrle', []],
  'jpeg-lossless': ['dcmcjpeg', ['+e1']],
  'jpeg-extended-12bit': ['dcmcjpeg', ['+ee']],
  'jpeg-ls-lossless': ['dcmcjpls', []],
  'jpeg-2000-lossless': ['gdcmconv', ['--j2k']],
};

export interface SyntaxRate {
  importPerSecond: number;
  firstDisplayPerSecond: number;
  meanBytes: number;
}

function transcode(source: string, base: string, syntax: string): string {
  const dir = path.join(base, syntax);
  if (fs.existsSync(`${dir}.complete`)) return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const [tool, args] = TRANSCODERS[syntax];
  for (const name of fs.readdirSync(source))
    execFileSync(tool, [...args, path.join(source, name), path.join(dir, name)]);
  fs.writeFileSync(`${dir}.complete`, new Date().toISOString());
  return dir;
}

async function firstDisplayRate(dir: string): Promise<number> {
  const files = fs.readdirSync(dir).map((name) => fs.readFileSync(path.join(dir, name)));
  const started = performance.now();
  for (const bytes of files) await imageToGrayPng(bytes, 8);
  return files.length / ((performance.now() - started) / 1000);
}

function meanBytes(dir: string): number {
  const names = fs.readdirSync(dir);
  return (
    names.reduce((sum, name) => sum + fs.statSync(path.join(dir, name)).size, 0) / names.length
  );
}

export async function benchDicomSyntaxes(
  options: ImportBenchOptions = {},
): Promise<Record<string, SyntaxRate>> {
  const log = options.log ?? ((line: string) => console.log(line));
  const settings = {
    count: options.count ?? 200,
    size: options.size ?? 224,
    seed: options.seed ?? 1,
    cacheDir: options.cacheDir ?? path.join(os.tmpdir(), 'qataseg-bench'),
  };
  fs.mkdirSync(settings.cacheDir, { recursive: true });
  const { root } = await demoFolder(settings, log);
  const folders = dicomBenchFolders(root, settings.cacheDir, settings.count);
  const base = path.join(settings.cacheDir, `dicom-${settings.count}-syntaxes`);
  const dirs: Record<string, string> = {
    png: folders.png,
    'explicit-little-endian': folders.dicom,
  };
  for (const syntax of Object.keys(TRANSCODERS))
    dirs[syntax] = transcode(folders.dicom, base, syntax);
  const result: Record<string, SyntaxRate> = {};
  for (const [syntax, dir] of Object.entries(dirs)) {
    const { perSecond } = await importRate(dir);
    result[syntax] = {
      importPerSecond: perSecond,
      firstDisplayPerSecond: await firstDisplayRate(dir),
      meanBytes: meanBytes(dir),
    };
    log(
      `${syntax.padEnd(24)} import ${perSecond.toFixed(0)}/s, first display ` +
        `${result[syntax].firstDisplayPerSecond.toFixed(0)}/s, ${(result[syntax].meanBytes / 1024).toFixed(0)} KiB`,
    );
  }
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const count = process.argv[2] ? Number(process.argv[2]) : undefined;
  console.log(JSON.stringify(await benchDicomSyntaxes({ count }), null, 2));
}
