/**
 * Native modules for Electron in development (`npm start`), by the ecosystem's tool:
 * @electron/rebuild tries the module's prebuilt binary for Electron first (prebuild-install) and
 * compiles against Electron's headers only when there is none. It works on a copy of the module
 * under .qataseg/electron-native/<electron version>/, so node_modules keeps Node's build for the
 * CLI and the tests. Only better-sqlite3 needs this: sharp, onnxruntime-node and tfjs-node are
 * Node-API modules, whose one binary loads in Node and Electron alike. (Packaged apps get the same
 * rebuild from electron-builder.)
 */
import { rebuild } from '@electron/rebuild';
import fs from 'node:fs';
import path from 'node:path';

/** The modules that are built against V8's ABI and so need an Electron build of their own. */
export const ELECTRON_ABI_MODULES = ['better-sqlite3'] as const;

export interface ElectronNativeOptions {
  /** The app root whose node_modules holds Node's build. */
  root: string;
  electronVersion: string;
  /** Where the Electron copies go (default root/.qataseg/electron-native); inside root, so the
   *  copy finds prebuild-install in root/node_modules as the original does. */
  cacheDir?: string;
  /** Electron's headers, for the compile fallback (default: @electron/rebuild's). */
  headerURL?: string;
  onLog?: (line: string) => void;
}

export type ElectronNativeResult =
  { ok: true; sqliteBinding: string; reused: boolean } | { ok: false; reason: string };

/** The cause in one line: the first error the tools printed (up to its stack), else the message. */
function oneLine(error: unknown, output: string): string {
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
  const lines = output.split('\n').map((line) => line.trim());
  const start = lines.findIndex((line) => /^(\w*Error|prebuild-install err)\b:?/.test(line));
  if (start < 0) return message;
  const end = lines.findIndex((line, index) => index > start && (!line || line.startsWith('at ')));
  const cause = lines.slice(start, end < 0 ? undefined : end).join(' ');
  return `${message}: ${cause}`.slice(0, 400);
}

/** Where the Electron build of better-sqlite3 lands: the Release folder of the copy. */
export function electronSqliteReleaseDir(cacheDir: string, electronVersion: string): string {
  return path.join(cacheDir, electronVersion, 'node_modules', 'better-sqlite3', 'build', 'Release');
}

/** better-sqlite3 built for `electronVersion`, reusing an earlier build when there is one. */
export async function prepareElectronNative(
  options: ElectronNativeOptions,
): Promise<ElectronNativeResult> {
  const cacheDir = options.cacheDir ?? path.join(options.root, '.qataseg', 'electron-native');
  const target = path.join(cacheDir, options.electronVersion);
  const moduleDir = path.join(target, 'node_modules', 'better-sqlite3');
  const binding = path.join(
    electronSqliteReleaseDir(cacheDir, options.electronVersion),
    'better_sqlite3.node',
  );
  const done = path.join(target, 'built-for-electron');
  if (fs.existsSync(done) && fs.existsSync(binding))
    return { ok: true, sqliteBinding: binding, reused: true };

  const source = path.join(options.root, 'node_modules', 'better-sqlite3');
  const { version } = JSON.parse(fs.readFileSync(path.join(source, 'package.json'), 'utf8')) as {
    version: string;
  };
  fs.rmSync(target, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(moduleDir), { recursive: true });
  fs.writeFileSync(
    path.join(target, 'package.json'),
    JSON.stringify({
      name: 'qataseg-electron-native',
      private: true,
      dependencies: { 'better-sqlite3': version },
    }),
  );
  // Sources without Node's build, which must not be mistaken for Electron's.
  fs.cpSync(source, moduleDir, {
    recursive: true,
    filter: (file) => path.relative(source, file).split(path.sep)[0] !== 'build',
  });

  // npm passes its `nodedir` setting down to node-gyp through the environment; with it, node-gyp
  // would compile against Node's headers whatever Electron version it is asked for.
  const nodedir = process.env.npm_config_nodedir;
  delete process.env.npm_config_nodedir;
  // @electron/rebuild prints a failed compile's whole output with console.error: keep it in a
  // log beside the copy and show one line.
  const output: string[] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => output.push(args.map(String).join(' '));
  try {
    const rebuilding = rebuild({
      buildPath: target,
      electronVersion: options.electronVersion,
      onlyModules: [...ELECTRON_ABI_MODULES],
      force: true,
      mode: 'sequential',
      ...(options.headerURL ? { headerURL: options.headerURL } : {}),
    });
    rebuilding.lifecycle.on('module-found', (name: string) =>
      options.onLog?.(`Building ${name} for Electron ${options.electronVersion} (prebuilt first)…`),
    );
    await rebuilding;
  } catch (error) {
    const log = path.join(target, 'rebuild.log');
    fs.writeFileSync(log, output.join('\n'));
    return { ok: false, reason: `${oneLine(error, output.join('\n'))} (log: ${log})` };
  } finally {
    console.error = consoleError;
    if (nodedir !== undefined) process.env.npm_config_nodedir = nodedir;
  }
  if (!fs.existsSync(binding))
    return { ok: false, reason: `@electron/rebuild finished without ${path.basename(binding)}` };
  fs.writeFileSync(done, `${options.electronVersion}\n`);
  return { ok: true, sqliteBinding: binding, reused: false };
}
