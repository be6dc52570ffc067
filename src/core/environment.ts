/** Facts about this installation, shared by `qataseg doctor`, `npm start` and the UI. */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** The repository (or installed app) root: where package.json and out/ live. */
export const APP_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function rendererDir(): string {
  return path.join(APP_ROOT, 'out', 'renderer');
}

export interface ElectronStatus {
  packageVersion: string | null;
  binaryPath: string | null;
  /** Why the binary cannot be used, or null when it can. */
  problem: string | null;
}

/**
 * Reads the electron npm package without importing it (core never imports electron): its
 * path.txt names the binary, which `npm start` downloads on first use (src/launcher).
 */
export function electronStatus(): ElectronStatus {
  let packageDir: string;
  let packageVersion: string | null = null;
  try {
    const packageJson = require.resolve('electron/package.json');
    packageDir = path.dirname(packageJson);
    packageVersion = (JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { version: string })
      .version;
  } catch {
    return {
      packageVersion: null,
      binaryPath: null,
      problem: 'the electron package is not installed',
    };
  }
  const pathFile = path.join(packageDir, 'path.txt');
  if (!fs.existsSync(pathFile)) {
    return {
      packageVersion,
      binaryPath: null,
      problem: 'the Electron binary is not downloaded yet (npm start fetches it on first use)',
    };
  }
  const binaryPath = path.join(packageDir, 'dist', fs.readFileSync(pathFile, 'utf8').trim());
  if (!fs.existsSync(binaryPath)) {
    return {
      packageVersion,
      binaryPath: null,
      problem: `the Electron binary is missing at ${binaryPath}`,
    };
  }
  return { packageVersion, binaryPath, problem: null };
}

export function sqliteVersion(): string {
  const db = new Database(':memory:');
  try {
    return (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  } finally {
    db.close();
  }
}
