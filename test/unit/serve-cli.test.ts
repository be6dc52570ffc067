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
