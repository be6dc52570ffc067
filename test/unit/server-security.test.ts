import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { createService, type Service } from '../../src/core/service';
import { startServer, tokenCookieName, type RunningServer } from '../../src/server/server';

let service: Service;
let server: RunningServer;
let projectDir: string;

beforeAll(async () => {
  projectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-server-'));
  service = createService({ transport: 'http', projectDir });
  server = await startServer({ service, port: 0, staticDir: null });
});

afterAll(async () => {
  await server.close();
  service.close();
  fs.rmSync(projectDir, { recursive: true, force: true });
});

const call = (method: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}api/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('browser-mode server', () => {
  it('listens on loopback only by default', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(server.token).toMatch(/^[0-9a-f]{48}$/);
  });

  it('answers 401 without the token, on API, media and pages', async () => {
    expect((await call('app.info', {})).status).toBe(401);
    expect((await fetch(`${server.url}media/image/1`)).status).toBe(401);
    expect((await fetch(server.url)).status).toBe(401);
    expect((await call('app.info', {}, { 'x-qataseg-token': 'wrong' })).status).toBe(401);
  });

  it('refuses API calls authenticated only by the cookie (cross-site form posts)', async () => {
    const response = await call(
      'app.info',
      {},
      { cookie: `${tokenCookieName(server.port)}=${server.token}` },
    );
    expect(response.status).toBe(401);
  });

  it('serves the contract with the token', async () => {
    const response = await call('project.state', {}, { 'x-qataseg-token': server.token });
    expect(response.status).toBe(200);
    const state = (await response.json()) as { projectDir: string };
    expect(state.projectDir).toBe(path.resolve(projectDir));
  });

  it('answers 400 with the schema message on bad input', async () => {
    const response = await call('jobs.cancel', { id: 42 }, { 'x-qataseg-token': server.token });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { code: string; message: string };
    expect(body.code).toBe('bad-request');
    expect(body.message).toContain('jobs.cancel');
    expect(body.message).toMatch(/id/);
  });

  it('answers 404 for an unknown method', async () => {
    const response = await call('no.such', {}, { 'x-qataseg-token': server.token });
    expect(response.status).toBe(404);
  });

  it('rejects a foreign Host header (DNS rebinding)', async () => {
    const { default: http } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const request = http.request(
        `${server.url}api/app.info`,
        { method: 'POST', headers: { host: 'evil.example:80', 'x-qataseg-token': server.token } },
        (response) => resolve(response.statusCode ?? 0),
      );
      request.on('error', reject);
      request.end('{}');
    });
    expect(status).toBe(403);
  });

  it('streams events over an authenticated WebSocket and refuses one without token', async () => {
    const wsUrl = server.url.replace('http', 'ws') + 'events';
    await expect(
      new Promise((resolve, reject) => {
        const socket = new WebSocket(wsUrl);
        socket.on('open', () => reject(new Error('opened without token')));
        socket.on('error', resolve);
      }),
    ).resolves.toBeTruthy();

    const socket = new WebSocket(`${wsUrl}?token=${server.token}`);
    await new Promise((resolve) => socket.on('open', resolve));
    const received = new Promise<{ event: string }>((resolve) =>
      socket.on('message', (data: Buffer) =>
        resolve(JSON.parse(data.toString()) as { event: string }),
      ),
    );
    service.openProject(projectDir);
    expect((await received).event).toBe('project.changed');
    socket.close();
  });

  it('refuses a websocket upgrade from a foreign Origin, even with the cookie or token', async () => {
    const wsUrl = `${server.url.replace('http', 'ws')}events`;
    const attempt = (options: WebSocket.ClientOptions, query = '') =>
      new Promise<number>((resolve) => {
        const socket = new WebSocket(`${wsUrl}${query}`, options);
        socket.on('open', () => {
          socket.close();
          resolve(101);
        });
        socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
        socket.on('error', () => resolve(0));
      });
    // Another port on 127.0.0.1 is same-site: SameSite=Strict lets the cookie through.
    const cookie = { headers: { cookie: `${tokenCookieName(server.port)}=${server.token}` } };
    expect(await attempt({ ...cookie, origin: 'http://127.0.0.1:1' })).toBe(403);
    expect(await attempt({ origin: 'http://evil.example' }, `?token=${server.token}`)).toBe(403);
    expect(await attempt({ origin: 'null' }, `?token=${server.token}`)).toBe(403);
    expect(await attempt({ ...cookie, origin: server.url.replace(/\/$/, '') })).toBe(101);
    expect(
      await attempt({ origin: `http://localhost:${server.port}` }, `?token=${server.token}`),
    ).toBe(101);
    // Clients that are not browsers send no Origin; the token still decides.
    expect(await attempt({}, `?token=${server.token}`)).toBe(101);
  });

  it('refuses state-changing calls from a foreign Origin', async () => {
    const token = { 'x-qataseg-token': server.token };
    expect(
      (await call('project.state', {}, { ...token, origin: 'http://127.0.0.1:1' })).status,
    ).toBe(403);
    expect((await call('project.state', {}, { ...token, origin: 'null' })).status).toBe(403);
    const own = await call(
      'project.state',
      {},
      { ...token, origin: server.url.replace(/\/$/, '') },
    );
    expect(own.status).toBe(200);
  });
});
