/**
 * `npm start`: build, then run the workstation in Electron. The Electron binary is fetched here on
 * first use (never by `npm install`) and better-sqlite3 is prepared for Electron by
 * @electron/rebuild; when either cannot be had, one line says why and browser mode starts instead,
 * on the built bundles, as the packaged app would run them.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_FETCH_TIMEOUT_MS,
  fetchElectronBinary,
  formatProgress,
  installedElectronBinary,
  type ElectronFetchProgress,
} from './electron-binary';
import { buildBundles } from './build';
import { prepareElectronNative } from './electron-native';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const passThrough = process.argv.slice(2);

/** Progress on one rewritten line on a terminal, every tenth elsewhere (logs, CI). */
function progressPrinter(version: string): (progress: ElectronFetchProgress) => void {
  let lastTenth = -1;
  return (progress) => {
    const line = `Downloading Electron ${version}: ${formatProgress(progress)}`;
    if (process.stdout.isTTY) {
      process.stdout.write(`\r${line}${progress.fraction >= 1 ? '\n' : ''}`);
    } else if (Math.floor(progress.fraction * 10) > lastTenth) {
      lastTenth = Math.floor(progress.fraction * 10);
      console.log(line);
    }
  };
}

function exitWith(child: ReturnType<typeof spawn>): void {
  child.on('exit', (code) => process.exit(code ?? 0));
}

function startBrowserMode(why: string): void {
  console.log(`${why}: starting browser mode.`);
  const projectDir =
    process.env.QATASEG_PROJECT ?? path.join(os.homedir(), '.qataseg', 'demo-project');
  // The bundle just built, as the packaged app runs it (bin/qataseg.mjs would compile the sources).
  const cli = path.join(root, 'out/main/cli.js');
  exitWith(
    spawn(process.execPath, [cli, 'serve', '--project', projectDir, '--demo', ...passThrough], {
      cwd: root,
      stdio: 'inherit',
    }),
  );
}

async function main(): Promise<void> {
  buildBundles(root);
  const { version } = createRequire(import.meta.url)('electron/package.json') as {
    version: string;
  };
  let binary = installedElectronBinary();
  if (!binary) {
    console.log(
      `Electron ${version} is not downloaded yet: fetching it once (gives up after ${DEFAULT_FETCH_TIMEOUT_MS / 1000} s without an answer).`,
    );
    const fetched = await fetchElectronBinary({ onProgress: progressPrinter(version) });
    if (!fetched.ok) return startBrowserMode(`Electron unavailable (${fetched.reason})`);
    binary = fetched.binaryPath;
  }
  const native = await prepareElectronNative({
    root,
    electronVersion: version,
    onLog: (line) => console.log(line),
  });
  if (!native.ok)
    return startBrowserMode(`better-sqlite3 for Electron unavailable (${native.reason})`);
  exitWith(
    spawn(binary, [root, ...passThrough], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, QATASEG_SQLITE_BINDING: native.sqliteBinding },
    }),
  );
}

await main();
