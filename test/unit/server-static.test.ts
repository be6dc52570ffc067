/**
 * The browser-mode server with a renderer folder on disk: malformed targets answer 400, and a
 * file that cannot be read fails that one response, never the server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createService, type Service } from '../../src/core/service';
import { startServer, tokenCookieName, type RunningServer } from '../../src/server/server';

let service: Service;
let server: RunningServer;
let base: string;

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-static-'));
  const staticDir = path.join(base, 'renderer');
  fs.mkdirSync(path.join(staticDir, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>app</title>');
  fs.writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'console.log(1);');
  // A regular file whose every read fails (EIO), standing in for a disk error or a vanished mount.
  if (process.platform === 'linux') {
    fs.symlinkSync('/proc/self/mem', path.join(staticDir, 'assets', 'unreadable.js'));
  }
  service = createService({ transport: 'http', projectDir: path.join(base, 'project') });
  server = await startServer({ service, port: 0, staticDir });
});

afterAll(async () => {
  await server.close();
  service.close();
  fs.rmSync(base, { recursive: true, force: true });
});

/** A GET with a raw (unnormalised) target, the way a stranger's client can send it. */
function rawGet(target: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>(
    (resolve, reject) => {
      const request = http.request(
        { host: '127.0.0.1', port: server.port, path: target, headers },
        (response) => {
          let body = '';
          const done = () =>
            resolve({ status: response.statusCode ?? 0, body, headers: response.headers });
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', done);
          response.on('error', done);
        },
      );
      request.on('error', reject);
      request.end();
    },
  );
}

describe('static pages of the browser-mode server', () => {
  it('serves the renderer with the token', async () => {
    const page = await rawGet(`/?token=${server.token}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>app</title>');
    const script = await rawGet(`/assets/app.js?token=${server.token}`);
    expect(script.status).toBe(200);
    expect(script.body).toBe('console.log(1);');
  });

  it('sets the token cookie under a name of its own port', async () => {
    const page = await rawGet(`/?token=${server.token}`);
    expect(page.headers['set-cookie']?.[0]).toMatch(
      new RegExp(`^qataseg_token_${server.port}=${server.token}; HttpOnly; SameSite=Strict`),
    );
  });

  it('sends a new tab that holds the cookie but no ?token= to the page with its token', async () => {
    const cookie = `${tokenCookieName(server.port)}=${server.token}`;
    const tab = await rawGet('/review?image=3', { cookie });
    expect(tab.status).toBe(302);
    expect(tab.headers.location).toBe(`/review?image=3&token=${server.token}`);
    // Assets load with the cookie alone; a stale token in the URL is replaced.
    expect((await rawGet('/assets/app.js', { cookie })).status).toBe(200);
    const stale = await rawGet(`/?token=${'0'.repeat(48)}`, { cookie });
    expect(stale.headers.location).toBe(`/?token=${server.token}`);
  });

  it('answers 400 to a path with malformed percent-encoding', async () => {
    const response = await rawGet(`/assets/%E0%A4%A.js?token=${server.token}`);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ code: 'bad-request' });
  });

  it('treats a cookie with malformed percent-encoding as no token (401, not 500)', async () => {
    const response = await rawGet('/', { cookie: `${tokenCookieName(server.port)}=%E0%A4%A` });
    expect(response.status).toBe(401);
  });

  it.runIf(process.platform === 'linux')(
    'survives a static file whose read fails, and keeps serving',
    async () => {
      const broken = await rawGet(`/assets/unreadable.js?token=${server.token}`).catch(
        (error: Error) => ({ status: 0, body: error.message }),
      );
      expect(broken.status === 0 || broken.status >= 500).toBe(true);
      const page = await rawGet(`/assets/app.js?token=${server.token}`);
      expect(page.status).toBe(200);
    },
  );
});
