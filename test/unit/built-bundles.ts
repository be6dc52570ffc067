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

export function ensureBuiltBundles(): void {
  const worker = path.join(builtMain, 'worker.js');
  const cli = path.join(builtMain, 'cli.js');
  const sources = Math.max(
    newestSource(path.join(repoRoot, 'src')),
    fs.statSync(path.join(repoRoot, 'electron.vite.config.ts')).mtimeMs,
  );
  const built = [worker, cli].every(
    (file) => fs.existsSync(file) && fs.statSync(file).mtimeMs > sources,
  );
  if (built) return;
  execFileSync(
    process.execPath,
    [path.join(repoRoot, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'],
    {
      cwd: repoRoot,
      stdio: 'ignore',
    },
  );
}
