/** The electron-vite build that `npm start` and `npm run dist` begin with; exits on failure. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

export function buildBundles(root: string): void {
  const electronVite = path.join(root, 'node_modules/electron-vite/bin/electron-vite.js');
  const result = spawnSync(process.execPath, [electronVite, 'build'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
