#!/usr/bin/env node
// `npm start`: build, then run the workstation in Electron; where the Electron binary is not
// installed (offline installs use ELECTRON_SKIP_BINARY_DOWNLOAD), say so in one line and start
// browser mode on the demo project instead.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const passThrough = process.argv.slice(2);

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function electronBinary() {
  try {
    const packageDir = path.dirname(require.resolve('electron/package.json'));
    const pathFile = path.join(packageDir, 'path.txt');
    if (!fs.existsSync(pathFile)) return null;
    const binary = path.join(packageDir, 'dist', fs.readFileSync(pathFile, 'utf8').trim());
    return fs.existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

/**
 * better-sqlite3 is compiled for Node's ABI by npm install; Electron needs its own build. Build a
 * copy once per Electron version (node-gyp against Electron's headers) and point core at it.
 */
function electronSqliteBinding() {
  const electronVersion = require('electron/package.json').version;
  const target = path.join(root, '.qataseg', 'electron-native', electronVersion, 'better-sqlite3');
  const binding = path.join(target, 'build', 'Release', 'better_sqlite3.node');
  if (fs.existsSync(binding)) return binding;
  const nodeGyp = process.env.npm_config_node_gyp;
  if (!nodeGyp) return null;
  console.log(`Building better-sqlite3 for Electron ${electronVersion} (once)…`);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.cpSync(path.dirname(require.resolve('better-sqlite3/package.json')), target, {
    recursive: true,
  });
  const result = spawnSync(
    process.execPath,
    [
      nodeGyp,
      'rebuild',
      '--release',
      `--target=${electronVersion}`,
      '--runtime=electron',
      '--dist-url=https://electronjs.org/headers',
    ],
    { cwd: target, stdio: 'inherit' },
  );
  return result.status === 0 && fs.existsSync(binding) ? binding : null;
}

run(process.execPath, [
  path.join(root, 'node_modules/electron-vite/bin/electron-vite.js'),
  'build',
]);

const binary = electronBinary();
if (binary) {
  const binding = electronSqliteBinding();
  const env = { ...process.env };
  if (binding) env.QATASEG_SQLITE_BINDING = binding;
  const child = spawn(binary, [root, ...passThrough], { cwd: root, stdio: 'inherit', env });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  const projectDir =
    process.env.QATASEG_PROJECT ?? path.join(os.homedir(), '.qataseg', 'demo-project');
  console.log(
    'Electron binary not installed (npm install ran with ELECTRON_SKIP_BINARY_DOWNLOAD or offline): starting browser mode.',
  );
  const child = spawn(
    process.execPath,
    [
      path.join(root, 'bin/qataseg.mjs'),
      'serve',
      '--project',
      projectDir,
      '--demo',
      ...passThrough,
    ],
    { cwd: root, stdio: 'inherit' },
  );
  child.on('exit', (code) => process.exit(code ?? 0));
}
