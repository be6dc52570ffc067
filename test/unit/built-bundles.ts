/**
 * The built bundles (out/main) for tests that run what Electron and a packaged app run: built by
 * electron-vite when missing or older than any source file, else used as they are.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const builtMain = path.join(repoRoot, 'out', 'main');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(file) : fs.statSync(file).mtimeMs);
  }
  return newest;
}

function fresh(): boolean {
  const sources = Math.max(
    newestSource(path.join(repoRoot, 'src')),
    fs.statSync(path.join(repoRoot, 'electron.vite.config.ts')).mtimeMs,
  );
  return ['worker.js', 'cli.js', 'index.js'].every((name) => {
    const file = path.join(builtMain, name);
    return fs.existsSync(file) && fs.statSync(file).mtimeMs > sources;
  });
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Builds out/ unless it is newer than every source. Test files run in parallel processes: a lock
 * folder makes them build one at a time (and the second finds the first's build fresh).
 */
export function ensureBuiltBundles(): void {
  if (fresh()) return;
  const lock = path.join(repoRoot, '.qataseg', 'build.lock');
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      // A lock left by a killed run is stale after the longest build.
      const age =
        Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 300_000) fs.rmSync(lock, { recursive: true, force: true });
      sleep(500);
    }
  }
  try {
    if (fresh()) return;
    const electronVite = path.join(repoRoot, 'node_modules/electron-vite/bin/electron-vite.js');
    execFileSync(process.execPath, [electronVite, 'build'], { cwd: repoRoot, stdio: 'ignore' });
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}
