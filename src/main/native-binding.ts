/**
 * better-sqlite3's binding for Electron in a packaged app. electron-builder packs node_modules as
 * they are (Node's build, which the CLI and tests keep using), so `npm run dist` ships the
 * Electron build that @electron/rebuild prepared (src/launcher/electron-native.ts) beside it, in
 * electron-native/, unpacked from the asar archive; core loads it through QATASEG_SQLITE_BINDING,
 * as under `npm start`. No runtime electron import, so tests check it under plain Node.
 */
import path from 'node:path';

/** The folder and file name `npm run dist` puts the binding at, relative to the app root. */
export const PACKAGED_SQLITE_BINDING = path.join('electron-native', 'better_sqlite3.node');

/**
 * The binding's path on disk for an app whose main bundle runs from `mainDir` (out/main inside
 * app.asar): native code loads from app.asar.unpacked, never from inside the archive.
 */
export function packagedSqliteBinding(mainDir: string): string {
  const appRoot = path.resolve(mainDir, '..', '..');
  const unpacked = appRoot.replace(/app\.asar$/, 'app.asar.unpacked');
  return path.join(unpacked, PACKAGED_SQLITE_BINDING);
}
