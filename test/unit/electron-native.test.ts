/**
 * better-sqlite3 for Electron comes from @electron/rebuild: the prebuilt binary is asked for first,
 * Electron's headers (to compile) only after it; a machine that can reach neither gets a one-line
 * reason, and Node's build in node_modules (the CLI's) is never touched. The hosts are a local
 * server that has nothing, so the test is the same with or without a network.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareElectronNative } from '../../src/launcher/electron-native';

const root = path.resolve(import.meta.dirname, '../..');
const nodeBuild = path.join(root, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node');
const cleanups: Array<() => void> = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function setEnv(name: string, value: string): void {
  const before = process.env[name];
  process.env[name] = value;
  cleanups.push(() => {
    if (before === undefined) delete process.env[name];
    else process.env[name] = before;
  });
}

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('native modules for Electron', () => {
  it('asks for the prebuilt binary first, then the headers, and reports why neither came', async () => {
    const requested: string[] = [];
    const server = http.createServer((request, response) => {
      requested.push(request.url ?? '');
      response.writeHead(404);
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => server.close());
    const host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    setEnv('npm_config_better_sqlite3_binary_host', `${host}/prebuilt`);
    // As ~/.npmrc's nodedir reaches npm scripts: it must not make node-gyp use Node's headers.
    setEnv('npm_config_nodedir', path.dirname(path.dirname(process.execPath)));
    // A home without ~/.electron-gyp headers or prebuild caches from earlier builds.
    setEnv('HOME', fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-home-')));
    fs.mkdirSync(path.join(root, '.qataseg'), { recursive: true });
    const cacheDir = fs.mkdtempSync(path.join(root, '.qataseg', 'test-electron-native-'));
    cleanups.push(() => fs.rmSync(cacheDir, { recursive: true, force: true }));
    const before = sha256(nodeBuild);

    const result = await prepareElectronNative({
      root,
      electronVersion: '40.10.2',
      cacheDir,
      headerURL: `${host}/headers`,
    });

    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).not.toContain('\n');
      expect(result.reason).toMatch(/404/);
    }
    const prebuilt = requested.findIndex((url) => url.startsWith('/prebuilt/'));
    const headers = requested.findIndex((url) => url.startsWith('/headers/'));
    expect(requested[prebuilt]).toMatch(/better-sqlite3-v[\d.]+-electron-v\d+-/);
    expect(requested[headers]).toContain('v40.10.2');
    expect(prebuilt).toBeLessThan(headers);
    expect(sha256(nodeBuild)).toBe(before);
    expect(fs.existsSync(path.join(cacheDir, '40.10.2', 'built-for-electron'))).toBe(false);
    expect(process.env.npm_config_nodedir).toBe(path.dirname(path.dirname(process.execPath)));
  });
});
