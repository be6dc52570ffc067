/**
 * The electron-builder configuration, as far as a machine without Electron's binary can exercise
 * it: electron-builder's own loader reads electron-builder.config.ts and its own schema validates
 * it; every package the built bundles import that carries native code or wasm is a production
 * dependency with those files unpacked from the asar archive; every file of out/ that the app
 * loads is packed, the ML worker and the schema migrations among them; the targets are the ones
 * the README names.
 */
import fs from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import path from 'node:path';
import type { Configuration } from 'electron-builder';
import { minimatch } from 'minimatch';
import { beforeAll, describe, expect, it } from 'vitest';
import { electronSqliteReleaseDir } from '../../src/launcher/electron-native';
import { PACKAGED_SQLITE_BINDING, packagedSqliteBinding } from '../../src/main/native-binding';
import { builtMain, ensureBuiltBundles, repoRoot } from './built-bundles';

const require = createRequire(import.meta.url);
const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
  getConfig: (projectDir: string, configPath: string, fromOptions: null) => Promise<Configuration>;
  validateConfiguration: (config: Configuration, logger: { isEnabled: boolean }) => Promise<void>;
};

let config: Configuration;
beforeAll(async () => {
  ensureBuiltBundles();
  config = await getConfig(repoRoot, 'electron-builder.config.ts', null);
}, 300_000);

const BUILTINS = new Set(builtinModules);

/** Package names imported, required or resolved by the built main-process bundles. */
function externalPackages(): Set<string> {
  const names = new Set<string>();
  const specifier =
    /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire(?:\$\d+)?(?:\.resolve)?\s*\(\s*)["']([^"'./][^"']*)["']/g;
  for (const file of fs.readdirSync(builtMain).filter((name) => name.endsWith('.js'))) {
    const code = fs.readFileSync(path.join(builtMain, file), 'utf8');
    for (const match of code.matchAll(specifier)) {
      const parts = match[1].split('/');
      const name = match[1].startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
      if (!name.startsWith('node:') && !BUILTINS.has(name) && name !== 'electron') names.add(name);
    }
  }
  return names;
}

const NATIVE = /\.(node|so(\.\d+)*|dll|dylib|wasm)$/;

/** Where Node would find `name` from `from`: the nearest node_modules/<name> up the tree (read
 *  directly, since a package's exports may hide its package.json from require.resolve). */
function installedDir(name: string, from: string): string | null {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) return null;
  }
}

/** Installed package folders reachable from `name` through dependencies, with their own files. */
function packageClosure(name: string, from = repoRoot, seen = new Map<string, string>()) {
  const dir = installedDir(name, from);
  if (!dir || seen.has(dir)) return seen; // Absent: an optional dependency not for this platform.
  seen.set(dir, name);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
  };
  for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies }))
    packageClosure(dep, dir, seen);
  return seen;
}

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .flatMap((entry) => (entry.isFile() ? [path.join(entry.parentPath, entry.name)] : []));
}

/** `files` as electron-builder normalised it: file sets with optional from/to and filters. */
function fileSets(): Array<{ from?: string; to?: string; filter: string[] }> {
  return (config.files as Array<{ from?: string; to?: string; filter?: string | string[] }>).map(
    (set) => ({
      from: set.from,
      to: set.to,
      filter: typeof set.filter === 'string' ? [set.filter] : (set.filter ?? []),
    }),
  );
}

/**
 * electron-builder's file-set semantics: production node_modules are in unless excluded, other
 * files out unless included; the last matching pattern decides; `!` excludes.
 */
function packed(relative: string, patterns: string[]): boolean {
  let included = relative.startsWith('node_modules/');
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    if (minimatch(relative, negated ? pattern.slice(1) : pattern, { dot: true }))
      included = !negated;
  }
  return included;
}

describe('the electron-builder configuration', () => {
  it('loads with electron-builder and passes its schema', async () => {
    await expect(validateConfiguration(config, { isEnabled: false })).resolves.toBeUndefined();
    expect(config.appId).toBe('org.qataseg.workstation');
    expect(config.asar).toBe(true);
    // Never electron-builder's in-place rebuild: it would leave node_modules an Electron binary.
    expect(config.npmRebuild).toBe(false);
    expect(config.buildDependenciesFromSource).toBe(false);
  });

  it('builds AppImage and deb on Linux, NSIS on Windows, dmg on macOS', () => {
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.win?.target).toEqual(['nsis']);
    expect(config.mac?.target).toEqual(['dmg']);
    expect(config.linux?.maintainer).toBeTruthy();
  });

  it('unpacks every native module and wasm file the bundles load, from production dependencies', () => {
    const packageJson = JSON.parse(
      fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'),
    ) as {
      dependencies: Record<string, string>;
      optionalDependencies: Record<string, string>;
    };
    const production = { ...packageJson.dependencies, ...packageJson.optionalDependencies };
    const unpack = (config.asarUnpack ?? []) as string[];
    const imported = externalPackages();
    // The ones this app cannot start without, whatever the bundler does.
    for (const name of [
      'better-sqlite3',
      'sharp',
      'onnxruntime-node',
      '@tensorflow/tfjs-backend-wasm',
    ])
      expect(imported).toContain(name);
    const missing: string[] = [];
    const patterns = fileSets().flatMap((set) => (set.from === undefined ? set.filter : []));
    for (const name of imported) {
      expect(production, `${name} is imported at run time`).toHaveProperty([name]);
      for (const [dir] of packageClosure(name)) {
        for (const file of filesUnder(dir).filter((f) => NATIVE.test(f))) {
          const relative = path.relative(repoRoot, file).split(path.sep).join('/');
          if (!packed(relative, patterns)) continue; // Left out of the package altogether.
          if (!unpack.some((pattern) => minimatch(relative, pattern, { dot: true })))
            missing.push(relative);
        }
      }
    }
    expect(missing).toEqual([]);
    // And the native files found are real: this machine's better-sqlite3 and onnxruntime builds.
    for (const file of [
      'node_modules/better-sqlite3/build/Release/better_sqlite3.node',
      `node_modules/onnxruntime-node/bin/napi-v6/${process.platform}/${process.arch}/onnxruntime_binding.node`,
      'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm',
    ]) {
      expect(fs.existsSync(path.join(repoRoot, file)), file).toBe(true);
      expect(unpack.some((pattern) => minimatch(file, pattern))).toBe(true);
    }
  });

  it('packs every built file the app loads: main, the ML worker, preload, renderer, migrations', () => {
    const patterns = fileSets().flatMap((set) => (set.from === undefined ? set.filter : []));
    const out = path.join(repoRoot, 'out');
    const built = filesUnder(out).map((file) =>
      path.relative(repoRoot, file).split(path.sep).join('/'),
    );
    for (const entry of [
      'out/main/index.js',
      'out/main/worker.js',
      'out/preload/index.cjs',
      'out/renderer/index.html',
    ])
      expect(built).toContain(entry);
    const unpacked = built.filter((file) => !file.endsWith('.map') && !packed(file, patterns));
    expect(unpacked).toEqual([]);
    expect(packed('package.json', patterns)).toBe(true);
    expect(packed('src/core/service.ts', patterns)).toBe(false);
    expect(packed('node_modules/tsx/dist/cli.mjs', patterns)).toBe(false);
    expect(packed('node_modules/@tensorflow/tfjs/dist/tf.node.js', patterns)).toBe(true);
    expect(packed('node_modules/@tensorflow/tfjs/dist/tf.node.js.map', patterns)).toBe(false);
    // Only the target platform's onnxruntime libraries.
    const ortBin = 'node_modules/onnxruntime-node/bin/napi-v6';
    const expand = (list: string[]) =>
      list.map((p) => p.replace('${platform}', process.platform).replace('${arch}', process.arch));
    expect(packed(`${ortBin}/${process.platform}/${process.arch}/x.node`, expand(patterns))).toBe(
      true,
    );
    expect(packed(`${ortBin}/other/${process.arch}/x.node`, expand(patterns))).toBe(false);
    // The schema migrations are code in the bundles (core opens every project through them).
    const bundles = built.filter((file) => file.startsWith('out/main/') && file.endsWith('.js'));
    const withMigrations = bundles.filter((file) =>
      fs.readFileSync(path.join(repoRoot, file), 'utf8').includes('CREATE TABLE meta'),
    );
    expect(withMigrations.length).toBeGreaterThan(0);
    expect(withMigrations.every((file) => packed(file, patterns))).toBe(true);
  });

  it('ships the Electron build of better-sqlite3 that npm run dist prepares, unpacked', () => {
    const { version } = JSON.parse(
      fs.readFileSync(path.join(repoRoot, 'node_modules/electron/package.json'), 'utf8'),
    ) as { version: string };
    const prepared = electronSqliteReleaseDir(
      path.join(repoRoot, '.qataseg', 'electron-native'),
      version,
    );
    const set = fileSets().find((candidate) => candidate.to === 'electron-native');
    expect(set).toBeDefined();
    expect(path.resolve(repoRoot, set?.from ?? '')).toBe(prepared);
    expect(set?.filter).toEqual([path.basename(PACKAGED_SQLITE_BINDING)]);
    // asarUnpack is matched against source paths (app-builder-lib's createFilter).
    const source = path.relative(repoRoot, path.join(prepared, 'better_sqlite3.node'));
    const unpack = (config.asarUnpack ?? []) as string[];
    expect(unpack.some((pattern) => minimatch(source, pattern, { dot: true }))).toBe(true);
    // Where the packaged main process then finds it.
    expect(packagedSqliteBinding('/opt/QaTa/resources/app.asar/out/main')).toBe(
      '/opt/QaTa/resources/app.asar.unpacked/electron-native/better_sqlite3.node',
    );
  });

  it('reads main from package.json, as Electron will inside the archive', () => {
    const { main } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
      main: string;
    };
    expect(path.normalize(main)).toBe(path.normalize('./out/main/index.js'));
    expect(fs.existsSync(path.join(repoRoot, main))).toBe(true);
  });
});
