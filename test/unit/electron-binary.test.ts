/**
 * `npm start` fetches the Electron binary on first use: from a local mirror (a real HTTP server on
 * loopback) it downloads with progress, checks the checksum and unpacks where electron's installer
 * would; a mirror that stalls, answers 404 or serves other bytes gives a one-line reason instead.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  fetchElectronBinary,
  installedElectronBinary,
  platformBinaryPath,
} from '../../src/launcher/electron-binary';

const VERSION = '40.1.2';
const zipName = `electron-v${VERSION}-${process.platform}-${process.arch}.zip`;
const servers: http.Server[] = [];

afterEach(() => {
  for (const server of servers.splice(0)) server.closeAllConnections();
});

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `qataseg-${prefix}-`));
}

/** A stand-in electron package: package.json and checksums.json, nothing downloaded yet. */
function electronPackage(): string {
  const dir = tempDir('electron-pkg');
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ version: VERSION }));
  fs.writeFileSync(path.join(dir, 'checksums.json'), JSON.stringify({ [zipName]: '0'.repeat(64) }));
  return dir;
}

/** A zip laid out like Electron's: the executable and a `version` file (python's zipfile). */
function electronZip(): Buffer {
  const dir = tempDir('electron-zip');
  const zip = path.join(dir, zipName);
  execFileSync('/usr/bin/python3', [
    '-c',
    [
      'import sys, zipfile',
      'z = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED)',
      'info = zipfile.ZipInfo(sys.argv[2]); info.external_attr = 0o755 << 16',
      'z.writestr(info, "#!/bin/sh\\necho electron\\n" + "x" * 300000)',
      'z.writestr("version", sys.argv[3])',
      'z.close()',
    ].join('\n'),
    zip,
    platformBinaryPath(),
    VERSION,
  ]);
  return fs.readFileSync(zip);
}

async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('fetching the Electron binary on first use', () => {
  it('downloads with progress, checks the checksum and unpacks where electron looks', async () => {
    const zip = electronZip();
    const requested: string[] = [];
    // Two writes, so there is progress between them: the second only once the first half has been
    // reported (a fixed 50 ms gap let a client busy for 50 ms under load read both halves at once),
    // or after 10 s, when the missing progress fails the test below instead of hanging it.
    let secondHalf: () => void = () => undefined;
    const mirror = await serve((request, response) => {
      requested.push(request.url ?? '');
      response.writeHead(200, { 'content-length': zip.length });
      response.write(zip.subarray(0, zip.length >> 1));
      const fallback = setTimeout(() => secondHalf(), 10_000);
      secondHalf = () => {
        clearTimeout(fallback);
        if (!response.writableEnded) response.end(zip.subarray(zip.length >> 1));
      };
    });
    const packageDir = electronPackage();
    expect(installedElectronBinary(packageDir)).toBeNull();
    const fractions: number[] = [];
    const result = await fetchElectronBinary({
      packageDir,
      mirror,
      cacheRoot: tempDir('electron-cache'),
      checksums: { [zipName]: sha256(zip) },
      onProgress: (progress) => {
        fractions.push(progress.fraction);
        if (progress.fraction > 0 && progress.fraction < 1) secondHalf();
      },
    });
    expect(result).toEqual({
      ok: true,
      binaryPath: path.join(packageDir, 'dist', platformBinaryPath()),
      version: VERSION,
    });
    expect(requested).toEqual([`/v${VERSION}/${zipName}`]);
    expect(fractions.some((fraction) => fraction > 0 && fraction < 1)).toBe(true);
    expect(fractions.at(-1)).toBe(1);
    expect(installedElectronBinary(packageDir)).toBe(path.join(packageDir, 'dist', 'electron'));
    expect(fs.readFileSync(path.join(packageDir, 'path.txt'), 'utf8')).toBe(platformBinaryPath());
  });

  it('refuses a zip whose checksum differs, and installs nothing', async () => {
    const zip = electronZip();
    const mirror = await serve((_request, response) => response.end(zip));
    const packageDir = electronPackage();
    const result = await fetchElectronBinary({
      packageDir,
      mirror,
      cacheRoot: tempDir('electron-cache'),
      checksums: { [zipName]: sha256(Buffer.from('another zip')) },
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/checksum/i);
    expect(installedElectronBinary(packageDir)).toBeNull();
    expect(fs.existsSync(path.join(packageDir, 'dist'))).toBe(false);
  });

  it('gives up after the timeout when the host never answers, saying so in one line', async () => {
    const mirror = await serve(() => undefined);
    const result = await fetchElectronBinary({
      packageDir: electronPackage(),
      mirror,
      cacheRoot: tempDir('electron-cache'),
      timeoutMs: 300,
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toMatch(/timeout/i);
      expect(result.reason).toContain('127.0.0.1');
      expect(result.reason).not.toContain('\n');
    }
  });

  it('names the HTTP status when the host has no such file', async () => {
    const mirror = await serve((_request, response) => {
      response.writeHead(404);
      response.end('not here');
    });
    const result = await fetchElectronBinary({
      packageDir: electronPackage(),
      mirror,
      cacheRoot: tempDir('electron-cache'),
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/404/);
  });
});
