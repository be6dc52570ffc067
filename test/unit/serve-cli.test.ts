/**
 * `qataseg serve` as a user starts it: binding beyond loopback needs --allow-remote and says what
 * it exposes.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer } from '../../src/server/server';
import { createService } from '../../src/core/service';
import { startServe, type ServeProcess } from '../faults/serve-process';

const bin = path.resolve(import.meta.dirname, '../../bin/qataseg.mjs');
const execFileAsync = promisify(execFile);

async function qataseg(...args: string[]) {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [bin, ...args], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const started: ServeProcess[] = [];
afterEach(async () => {
  for (const serve of started.splice(0)) await serve.stop();
});

describe('qataseg serve --host', () => {
  it('refuses a non-loopback address without --allow-remote, saying what it would expose', async () => {
    const result = await qataseg('serve', '--host', '0.0.0.0', '--port', '0');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--allow-remote');
    expect(result.stderr).toMatch(/not a loopback address/);
    expect(result.stderr).toMatch(/every image and mask/);
    expect(result.stderr).toMatch(/plain HTTP/);
    expect(result.stdout).toBe('');
  });

  it('binds every interface with --allow-remote and warns on stderr', async () => {
    const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-remote-'));
    const serve = await startServe([
      '--project',
      projectDir,
      '--host',
      '0.0.0.0',
      '--allow-remote',
    ]);
    started.push(serve);
    expect(serve.stderr()).toMatch(/every interface/);
    expect(serve.stderr()).toMatch(/plain HTTP/);
    const response = await fetch(`http://127.0.0.1:${serve.port}/api/app.info`, {
      method: 'POST',
      headers: { 'x-qataseg-token': serve.token, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(200);
  });

  it('keeps loopback names without the flag', async () => {
    const service = createService({ transport: 'http' });
    try {
      for (const host of ['localhost', '127.0.0.2', '::1']) {
        const server = await startServer({ service, host, port: 0, staticDir: null }).catch(
          (error: NodeJS.ErrnoException) => {
            // A machine without IPv6 loopback cannot bind ::1; that is not a refusal.
            if (error.code === 'EADDRNOTAVAIL') return null;
            throw error;
          },
        );
        await server?.close();
      }
      await expect(
        startServer({ service, host: '0.0.0.0', port: 0, staticDir: null }),
      ).rejects.toThrow(/--allow-remote/);
    } finally {
      service.close();
    }
  });
});

describe('qataseg serve token', () => {
  const call = (serve: ServeProcess, token: string) =>
    fetch(`${serve.url}api/app.info`, {
      method: 'POST',
      headers: { 'x-qataseg-token': token, 'content-type': 'application/json' },
      body: '{}',
    });

  it('survives a restart of the same project, kept in the project folder readable by the user only', async () => {
    const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-token-'));
    const first = await startServe(['--project', projectDir]);
    started.push(first);
    const tokenFile = path.join(projectDir, 'server.token');
    expect(fs.readFileSync(tokenFile, 'utf8').trim()).toBe(first.token);
    if (process.platform !== 'win32') expect(fs.statSync(tokenFile).mode & 0o777).toBe(0o600);
    await first.stop();

    const second = await startServe(['--project', projectDir]);
    started.push(second);
    expect(second.token).toBe(first.token);
    expect((await call(second, first.token)).status).toBe(200);
    await second.stop();

    const rotated = await startServe(['--project', projectDir, '--new-token']);
    started.push(rotated);
    expect(rotated.token).not.toBe(first.token);
    expect((await call(rotated, first.token)).status).toBe(401);
    expect((await call(rotated, rotated.token)).status).toBe(200);
    expect(fs.readFileSync(tokenFile, 'utf8').trim()).toBe(rotated.token);
  });

  it.runIf(process.platform !== 'win32')(
    'replaces a token file that others could read, and says so',
    async () => {
      const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-token-mode-'));
      const exposed = 'ab'.repeat(24);
      fs.writeFileSync(path.join(projectDir, 'server.token'), exposed, { mode: 0o644 });
      fs.chmodSync(path.join(projectDir, 'server.token'), 0o644);
      const serve = await startServe(['--project', projectDir]);
      started.push(serve);
      expect(serve.token).not.toBe(exposed);
      expect(serve.stderr()).toMatch(/readable by other users/);
      expect(fs.statSync(path.join(projectDir, 'server.token')).mode & 0o777).toBe(0o600);
    },
  );

  it('answers a page request without the token with a page that says how to get in', async () => {
    const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-token-page-'));
    const serve = await startServe(['--project', projectDir]);
    started.push(serve);
    const page = await fetch(serve.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(401);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain('?token=');
    expect(html).toContain('qataseg serve');
    expect(html).toContain('--new-token');
    expect(html).not.toContain(serve.token);
    // API clients still get the contract's JSON error.
    const api = await fetch(`${serve.url}api/app.info`, { method: 'POST', body: '{}' });
    expect(api.status).toBe(401);
    expect(((await api.json()) as { code: string }).code).toBe('unauthorized');
  });
});
