/**
 * The Electron binary, fetched by `npm start` on first use rather than by electron's install
 * script (off in package.json `allowScripts`): an install script that cannot reach its download
 * host makes `npm install` fail, while a start that cannot says why and opens browser mode.
 * Downloads with @electron/get, checks the zip against the checksums the electron package ships,
 * and unpacks it where electron's own installer would (node_modules/electron/dist + path.txt), so
 * electron-vite, Playwright and electron-builder find it there too.
 */
import { downloadArtifact } from '@electron/get';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

export interface ElectronFetchProgress {
  transferred: number;
  total: number | null;
  fraction: number;
}

export interface ElectronFetchOptions {
  /** The electron npm package's folder (default: the installed one). */
  packageDir?: string;
  /** Longest wait for a name lookup, a connection, a response or the next bytes of the body. */
  timeoutMs?: number;
  onProgress?: (progress: ElectronFetchProgress) => void;
  /** sha256 by file name (default: the checksums.json of the electron package). */
  checksums?: Record<string, string>;
  /** Download base URL (default: ELECTRON_MIRROR, else Electron's GitHub releases). */
  mirror?: string;
  /** Where downloaded zips are cached (default: @electron/get's per-user cache). */
  cacheRoot?: string;
}

export type ElectronFetchResult =
  { ok: true; binaryPath: string; version: string } | { ok: false; reason: string };

export const DEFAULT_FETCH_TIMEOUT_MS = 20_000;

/** The executable inside the unpacked zip, as electron's installer names it in path.txt. */
export function platformBinaryPath(platform: NodeJS.Platform = process.platform): string {
  switch (platform) {
    case 'darwin':
      return 'Electron.app/Contents/MacOS/Electron';
    case 'win32':
      return 'electron.exe';
    default:
      return 'electron';
  }
}

export function electronPackageDir(): string {
  return path.dirname(require.resolve('electron/package.json'));
}

/** The installed binary, or null when it is absent or not the package's version. */
export function installedElectronBinary(packageDir = electronPackageDir()): string | null {
  try {
    const { version } = JSON.parse(
      fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8'),
    ) as { version: string };
    const dist = path.join(packageDir, 'dist');
    const distVersion = fs.readFileSync(path.join(dist, 'version'), 'utf8').trim();
    if (distVersion.replace(/^v/, '') !== version) return null;
    const binary = path.join(dist, fs.readFileSync(path.join(packageDir, 'path.txt'), 'utf8'));
    return fs.existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

/** One line saying why a download failed: got's message plus the host it was talking to. */
export function downloadFailureReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const first = (message.split('\n').find((line) => line.trim()) ?? 'unknown error').trim();
  const url = (error as { options?: { url?: URL } }).options?.url;
  const host = url instanceof URL ? url.host : null;
  return host && !first.includes(host) ? `${first} (${host})` : first;
}

type ExtractZip = (zipPath: string, options: { dir: string }) => Promise<void>;

/**
 * Downloads and unpacks the binary of the installed electron package. Never throws: a failure
 * comes back as a one-line reason. Bounded by timeoutMs of silence, not by the total time, so a
 * slow but moving download completes.
 */
export async function fetchElectronBinary(
  options: ElectronFetchOptions = {},
): Promise<ElectronFetchResult> {
  const packageDir = options.packageDir ?? electronPackageDir();
  const packageRequire = createRequire(path.join(packageDir, 'package.json'));
  const timeout = options.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  try {
    const { version } = packageRequire('./package.json') as { version: string };
    const checksums =
      options.checksums ?? (packageRequire('./checksums.json') as Record<string, string>);
    // @electron/get draws its own progress bar after 30 s unless told not to; ours is onProgress.
    process.env.ELECTRON_GET_NO_PROGRESS = '1';
    const zipPath = await downloadArtifact({
      version,
      artifactName: 'electron',
      platform: process.platform,
      arch: process.arch,
      checksums,
      cacheRoot: options.cacheRoot ?? process.env.electron_config_cache,
      mirrorOptions: options.mirror ? { mirror: options.mirror } : undefined,
      downloadOptions: {
        quiet: true,
        retry: { limit: 0 },
        timeout: {
          lookup: timeout,
          connect: timeout,
          secureConnect: timeout,
          response: timeout,
          socket: timeout,
        },
        getProgressCallback: async (progress: {
          transferred: number;
          total?: number;
          percent: number;
        }) =>
          options.onProgress?.({
            transferred: progress.transferred,
            total: progress.total ?? null,
            fraction: progress.percent,
          }),
      },
    });
    const extract = require('extract-zip') as ExtractZip;
    const dist = path.join(packageDir, 'dist');
    // Unpack beside dist and swap it in, so an interrupted unpack never looks installed.
    const staging = fs.mkdtempSync(path.join(packageDir, '.dist-'));
    try {
      await extract(zipPath, { dir: staging });
      const typings = path.join(staging, 'electron.d.ts');
      if (fs.existsSync(typings)) fs.rmSync(typings);
      fs.rmSync(dist, { recursive: true, force: true });
      fs.renameSync(staging, dist);
    } finally {
      fs.rmSync(staging, { recursive: true, force: true });
    }
    fs.writeFileSync(path.join(packageDir, 'path.txt'), platformBinaryPath());
    const binaryPath = installedElectronBinary(packageDir);
    if (!binaryPath)
      return { ok: false, reason: `the downloaded zip has no ${platformBinaryPath()}` };
    return { ok: true, binaryPath, version };
  } catch (error) {
    return { ok: false, reason: downloadFailureReason(error) };
  }
}

/** Progress as one short line: "37% of 112 MB" (or the bytes so far when the size is unknown). */
export function formatProgress(progress: ElectronFetchProgress): string {
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
  return progress.total
    ? `${Math.floor(progress.fraction * 100)}% of ${mb(progress.total)}`
    : `${mb(progress.transferred)}`;
}
