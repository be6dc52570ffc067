/**
 * `npm run dist`: installers of the built app (out/) with electron-builder: AppImage and deb on
 * Linux, NSIS on Windows, dmg on macOS (each built on its own platform). Reviewed item by item in
 * test/unit/packaging.test.ts, which also checks that every native module and wasm file the
 * bundles load at run time is unpacked from the asar archive.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Configuration } from 'electron-builder';

const root = path.dirname(fileURLToPath(import.meta.url));
const electronVersion = (
  JSON.parse(
    fs.readFileSync(path.join(root, 'node_modules', 'electron', 'package.json'), 'utf8'),
  ) as { version: string }
).version;

/**
 * better-sqlite3 built for Electron by `npm run dist` (src/launcher/electron-native.ts), shipped as
 * electron-native/better_sqlite3.node (src/main/native-binding.ts loads it).
 */
export const ELECTRON_SQLITE_BUILD = path.posix.join(
  '.qataseg/electron-native',
  electronVersion,
  'node_modules/better-sqlite3/build/Release',
);

/**
 * Packages whose files are loaded from disk by native code or by workers, so they cannot stay in
 * app.asar: Node addons (.node) and the libraries they dlopen (.so/.dll/.dylib), and tfjs's wasm
 * binaries with the scripts of its pthread workers.
 */
export const UNPACKED_PACKAGES = [
  // V8-ABI addon: Node's build, which the packaged app does not load (see electron-native).
  'better-sqlite3',
  // Node-API addons: one binary serves Node and Electron.
  'sharp',
  '@img/*',
  'onnxruntime-node',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  // wasm binaries and the threaded build's worker script.
  '@tensorflow/tfjs-backend-wasm',
  // DICOM codecs as wasm: JPEG-LS (CharLS), JPEG 2000 (OpenJPEG), JPEG extended and lossless
  // (dcmjs-codecs' libjpeg-turbo).
  '@cornerstonejs/codec-charls',
  '@cornerstonejs/codec-openjpeg',
  'dcmjs-codecs',
] as const;

/** An Electron binary already fetched by `npm start` is used as it is; else electron-builder
 *  downloads the zip of the installed electron version itself. */
const localElectron = path.join(root, 'node_modules', 'electron', 'dist');

const config: Configuration = {
  appId: 'org.qataseg.workstation',
  productName: 'QaTa Seg Workstation',
  executableName: 'qataseg-workstation',
  copyright: 'QaTa Seg Workstation contributors',
  directories: { output: 'dist', buildResources: 'resources' },
  // The bundles (main, ML worker, CLI, preload, renderer) and package.json; production
  // node_modules are added by electron-builder. tsx (and its esbuild) only serve the CLI run from
  // TypeScript sources, which a packaged app never does.
  files: [
    'out/**/*',
    'package.json',
    // Source maps are never loaded at run time; tfjs's alone are ~200 MB.
    '!**/*.map',
    '!node_modules/tsx/**',
    '!node_modules/esbuild/**',
    '!node_modules/@esbuild/**',
    // onnxruntime-node carries every platform's libraries (~150 MB): keep the target's.
    '!node_modules/onnxruntime-node/bin/napi-v6/**',
    'node_modules/onnxruntime-node/bin/napi-v6/${platform}/${arch}/**',
    // jpeg-lossless-decoder-js declares its own build tool's native binary (rollup) as an
    // optional dependency; nothing loads it at run time.
    '!node_modules/jpeg-lossless-decoder-js/node_modules/**',
    { from: ELECTRON_SQLITE_BUILD, to: 'electron-native', filter: ['better_sqlite3.node'] },
  ],
  asar: true,
  asarUnpack: [
    ...UNPACKED_PACKAGES.map((name) => `node_modules/${name}/**`),
    // electron-builder matches asarUnpack against source paths, not where a file set puts them.
    `${ELECTRON_SQLITE_BUILD}/better_sqlite3.node`,
  ],
  // electron-builder's rebuild would turn node_modules' better-sqlite3 into Electron's build in
  // place, leaving the CLI and the tests a binary they cannot load; `npm run dist` prepares a
  // copy with @electron/rebuild instead (prebuilt first, compile as fallback) and ships it above.
  npmRebuild: false,
  buildDependenciesFromSource: false,
  electronDist: fs.existsSync(path.join(localElectron, 'version')) ? localElectron : undefined,
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Science;MedicalSoftware',
    synopsis: 'Review, correct and retrain U-Net segmentations of chest X-rays',
    maintainer: 'QaTa Seg Workstation contributors',
  },
  deb: {
    // better-sqlite3, sharp and onnxruntime bring their own libraries; Electron's own needs.
    depends: [
      'libgtk-3-0',
      'libnotify4',
      'libnss3',
      'libxss1',
      'libxtst6',
      'xdg-utils',
      'libatspi2.0-0',
      'libuuid1',
      'libsecret-1-0',
    ],
  },
  win: { target: ['nsis'] },
  nsis: { oneClick: false, perMachine: false, allowToChangeInstallationDirectory: true },
  mac: { target: ['dmg'], category: 'public.app-category.medical' },
  publish: null,
};

export default config;
