/**
 * `npm run dist`: build, prepare better-sqlite3 for Electron exactly as `npm start` does (a copy,
 * by @electron/rebuild, prebuilt first), then electron-builder with electron-builder.config.ts and
 * the arguments given (`npm run dist -- --dir`, `--linux deb`, …). electron-builder's own rebuild
 * is off: it would rebuild node_modules in place and leave the CLI and tests a binary for Electron.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundles } from './build';
import { prepareElectronNative } from './electron-native';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);

buildBundles(root);
const { version } = require('electron/package.json') as { version: string };
const native = await prepareElectronNative({
  root,
  electronVersion: version,
  onLog: (line) => console.log(line),
});
if (!native.ok) {
  console.error(
    `npm run dist: better-sqlite3 for Electron ${version} unavailable (${native.reason})`,
  );
  process.exit(1);
}
const cli = path.join(path.dirname(require.resolve('electron-builder/package.json')), 'cli.js');
const child = spawn(
  process.execPath,
  [cli, '--config', 'electron-builder.config.ts', ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit' },
);
child.on('exit', (code) => process.exit(code ?? 1));
