/**
 * Fault suite: a stranger cannot crash `qataseg serve`. A corpus of malformed requests (request
 * targets, headers, cookies, bodies, websocket upgrades), each sent with and without the token
 * over a raw socket to the real server process; after each one the process must still be alive,
 * no answer may be a 5xx, and the server must still answer a normal call.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_SOCKET_MAX_PAYLOAD } from '../../src/shared/channels';
import { rawRequest, startServe, type RawResponse, type ServeProcess } from './serve-process';

let serve: ServeProcess;
let projectDir: string;

beforeAll(async () => {
  projectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-fuzz-'));
  serve = await startServe(['--project', projectDir]);
}, 90_000);

afterAll(async () => {
  await serve?.stop();
  fs.rmSync(projectDir, { recursive: true, force: true });
});

type Token = string | null;

interface Case {
  name: string;
  bytes(port: number, token: Token): string | Buffer;
  /** Statuses this case must get without / with the token; default: any 4xx. */
  without?: number[];
  with?: number[];
  /** The server may leave the request unanswered (an incomplete request; an open socket). */
  mayHang?: boolean;
}

const host = (port: number) => `127.0.0.1:${port}`;
const auth = (token: Token) => (token ? `x-qataseg-token: ${token}\r\n` : '');
const query = (token: Token) => (token ? `token=${token}` : '');
const get =
  (target: string, headers = '') =>
  (port: number, token: Token) =>
    `GET ${target} HTTP/1.1\r\nHost: ${host(port)}\r\n${auth(token)}${headers}Connection: close\r\n\r\n`;
const post =
  (target: string, body: string | Buffer, headers = '') =>
  (port: number, token: Token) =>
    Buffer.concat([
      Buffer.from(
        `POST ${target} HTTP/1.1\r\nHost: ${host(port)}\r\n${auth(token)}${headers}` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`,
      ),
      Buffer.isBuffer(body) ? body : Buffer.from(body),
    ]);
const upgrade =
  (target: (token: Token) => string, headers = '') =>
  (port: number, token: Token) =>
    `GET ${target(token)} HTTP/1.1\r\nHost: ${host(port)}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${headers}\r\n`;

const deepJson = '['.repeat(100_000) + ']'.repeat(100_000);

const corpus: Case[] = [
  // Request targets.
  {
    name: 'absolute-form target with an unclosed IPv6 host',
    bytes: get('http://[::1'),
    with: [400],
    without: [400],
  },
  { name: 'target with truncated percent-encoding', bytes: get('/%E0%A4%A'), with: [400] },
  {
    name: 'API method with truncated percent-encoding',
    bytes: post('/api/%E0%A4%A', '{}'),
    with: [400],
  },
  { name: 'API method ending in %', bytes: post('/api/app.info%', '{}'), with: [400] },
  { name: 'media id with bad percent-encoding', bytes: get('/media/image/%ZZ'), with: [400] },
  { name: 'media with a bad query', bytes: get('/media/image/1?w=%E0&h=%'), with: [400, 404] },
  { name: 'media without kind', bytes: get('/media/'), with: [400] },
  { name: 'media with a huge id', bytes: get('/media/mask/1e309'), with: [400] },
  { name: 'media kind unknown', bytes: get('/media/etc/1'), with: [400] },
  { name: 'percent-encoded NUL', bytes: get('/%00') },
  { name: 'encoded traversal', bytes: get('/..%2f..%2f..%2fetc%2fpasswd') },
  { name: 'backslash traversal', bytes: get('/..\\..\\etc\\passwd') },
  { name: 'scheme-relative target', bytes: get('//evil.example/x') },
  {
    name: 'asterisk target',
    bytes: (port, token) =>
      `OPTIONS * HTTP/1.1\r\nHost: ${host(port)}\r\n${auth(token)}Connection: close\r\n\r\n`,
  },
  { name: 'token query with bad percent-encoding', bytes: get('/?token=%E0%A4%A') },
  { name: 'target of 64 KiB', bytes: get(`/${'a'.repeat(65_536)}`) },
  {
    name: 'unknown method',
    bytes: (port, token) =>
      `BREW /api/app.info HTTP/1.1\r\nHost: ${host(port)}\r\n${auth(token)}Connection: close\r\n\r\n`,
  },
  {
    name: 'HTTP version 9.9',
    bytes: (port, token) => `GET / HTTP/9.9\r\nHost: ${host(port)}\r\n${auth(token)}\r\n`,
  },
  { name: 'binary garbage', bytes: () => Buffer.from([0, 1, 2, 255, 13, 10, 13, 10]) },
  // Headers and cookies.
  {
    name: 'cookie with truncated percent-encoding',
    bytes: (port, token) => get('/', `Cookie: qataseg_token_${port}=%E0%A4%A\r\n`)(port, token),
    without: [401],
  },
  {
    name: 'API call with a malformed cookie',
    bytes: (port, token) =>
      post('/api/app.info', '{}', `Cookie: qataseg_token_${port}=%\r\n`)(port, token),
    without: [401],
  },
  {
    name: 'cookie of separators',
    bytes: (port, token) => get('/', `Cookie: ;;=;=%;qataseg_token_${port}\r\n`)(port, token),
    without: [401],
  },
  { name: 'cookie of 12 KiB', bytes: get('/', `Cookie: ${'x=%E0;'.repeat(2000)}\r\n`) },
  {
    name: 'no Host header',
    bytes: (_port, token) => `GET / HTTP/1.1\r\n${auth(token)}Connection: close\r\n\r\n`,
  },
  {
    name: 'Host with an unclosed IPv6 literal',
    bytes: (_port, token) =>
      `GET / HTTP/1.1\r\nHost: [::1\r\n${auth(token)}Connection: close\r\n\r\n`,
  },
  { name: 'header line without a colon', bytes: get('/', 'NoColonHere\r\n') },
  {
    name: 'two token headers',
    bytes: get('/api/app.info', 'x-qataseg-token: a\r\n'),
    with: [400, 401, 405],
  },
  {
    name: 'token header with non-ASCII bytes',
    bytes: () =>
      Buffer.from(
        'GET /api/app.info HTTP/1.1\r\nHost: 127.0.0.1\r\nx-qataseg-token: \xff\xfe\r\n\r\n',
        'latin1',
      ),
  },
  {
    name: 'bad chunked body',
    bytes: (port, token) =>
      `POST /api/app.info HTTP/1.1\r\nHost: ${host(port)}\r\n${auth(token)}Transfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n`,
  },
  {
    name: 'both Content-Length and chunked',
    bytes: (port, token) =>
      `POST /api/app.info HTTP/1.1\r\nHost: ${host(port)}\r\n${auth(token)}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}`,
  },
  {
    name: 'negative Content-Length',
    bytes: (port, token) =>
      `POST /api/app.info HTTP/1.1\r\nHost: ${host(port)}\r\n${auth(token)}Content-Length: -1\r\n\r\n`,
  },
  {
    name: 'body shorter than its Content-Length',
    bytes: (port, token) =>
      `POST /api/app.info HTTP/1.1\r\nHost: ${host(port)}\r\n${auth(token)}Content-Length: 1000\r\n\r\n{}`,
    mayHang: true,
  },
  // Bodies.
  { name: 'truncated JSON', bytes: post('/api/app.info', '{'), with: [400] },
  {
    name: 'invalid UTF-8 body',
    bytes: post('/api/images.list', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])),
    with: [400],
  },
  { name: 'JSON nested 100000 deep', bytes: post('/api/images.list', deepJson), with: [400] },
  {
    name: 'prototype pollution body',
    bytes: post(
      '/api/images.list',
      '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}',
    ),
    with: [200, 400],
  },
  { name: 'body of the wrong type', bytes: post('/api/jobs.cancel', '[1,2,3]'), with: [400] },
  { name: 'null body', bytes: post('/api/images.get', 'null'), with: [400] },
  { name: 'huge number', bytes: post('/api/images.get', '{"id":1e999}'), with: [400] },
  {
    name: 'mask save with a PNG that is not one',
    bytes: post(
      '/api/masks.save',
      JSON.stringify({ imageId: 1, png: 'AAAA', baseRevisionId: null }),
    ),
    with: [400, 404],
  },
  {
    name: 'import of a path with NUL',
    bytes: post('/api/dataset.import', JSON.stringify({ root: '/tmp/\u0000x' })),
    with: [400],
  },
  // Only "no crash, no 5xx" here: validating export paths is the export room's part.
  {
    name: 'export to a path with NUL',
    bytes: post('/api/export.plan', JSON.stringify({ out: '/tmp/\u0000x' })),
  },

  // Websocket upgrades.
  {
    name: 'upgrade with a malformed cookie',
    bytes: (port, token) =>
      upgrade(() => '/events', `Cookie: qataseg_token_${port}=%E0%A4%A\r\n`)(port, token),
    without: [401],
  },
  {
    name: 'upgrade to an unclosed IPv6 target',
    bytes: upgrade(() => 'http://[::1'),
    without: [400],
    with: [400],
  },
  {
    name: 'upgrade with bad percent-encoding',
    bytes: upgrade((t) => `/events?${query(t)}&x=%E0`),
    with: [101],
    mayHang: true,
  },
  { name: 'upgrade of another path', bytes: upgrade((t) => `/api/app.info?${query(t)}`) },
  {
    name: 'upgrade without a key',
    bytes: (port, token) =>
      `GET /events?${query(token)} HTTP/1.1\r\nHost: ${host(port)}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
  },
  {
    name: 'upgrade to h2c',
    bytes: (port, token) =>
      `GET /events?${query(token)} HTTP/1.1\r\nHost: ${host(port)}\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nHTTP2-Settings: AAAA\r\n\r\n`,
  },

  {
    name: 'upgrade from a foreign Origin',
    bytes: upgrade((t) => `/events?${query(t)}`, 'Origin: http://127.0.0.1:1\r\n'),
    with: [403],
    without: [403],
  },
  {
    name: 'API call from a foreign Origin',
    bytes: post('/api/project.state', '{}', 'Origin: http://127.0.0.1:1\r\n'),
    with: [403],
    without: [403],
  },
  {
    name: 'API call from an opaque Origin',
    bytes: post('/api/project.state', '{}', 'Origin: null\r\n'),
    with: [403],
    without: [403],
  },
  {
    name: 'upgrade with a foreign Host',
    bytes: (_port, token) =>
      `GET /events?${query(token)} HTTP/1.1\r\nHost: evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
  },
  {
    name: 'upgrade then garbage frames',
    bytes: (port, token) =>
      Buffer.concat([
        Buffer.from(upgrade((t) => `/events?${query(t)}`)(port, token)),
        Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 1, 2, 3]),
      ]),
    with: [101],
    mayHang: true,
  },
];

function problem(kase: Case, token: Token, response: RawResponse): string | null {
  const expected = token ? kase.with : kase.without;
  if (response.status === null) return kase.mayHang ? null : 'no answer';
  if (expected) return expected.includes(response.status) ? null : `status ${response.status}`;
  const renderer503 = response.status === 503 && response.text.includes('renderer is not built');
  if (response.status >= 400 && response.status < 500) return null;
  if (token && (response.status < 400 || renderer503)) return null;
  return `status ${response.status}`;
}

async function stillServes(): Promise<void> {
  const response = await fetch(`${serve.url}api/app.info`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-qataseg-token': serve.token },
    body: '{}',
  });
  expect(response.status).toBe(200);
}

describe('malformed requests against qataseg serve', () => {
  it('answers each malformed request with a 4xx and stays up', async () => {
    const problems: string[] = [];
    for (const kase of corpus) {
      for (const token of [null, serve.token]) {
        const response = await rawRequest(
          serve.port,
          kase.bytes(serve.port, token),
          kase.mayHang ? 800 : 3000,
        );
        // Let a crash, if any, happen before looking.
        await new Promise((resolve) => setTimeout(resolve, 30));
        if (!serve.alive()) {
          throw new Error(
            `qataseg serve died on "${kase.name}" (${token ? 'with' : 'without'} token):\n${serve.stderr()}`,
          );
        }
        const found = problem(kase, token, response);
        if (found)
          problems.push(
            `${kase.name} (${token ? 'with' : 'without'} token): ${found} ${response.text.split('\r\n')[0]} ${response.text.slice(response.text.indexOf('\r\n\r\n') + 4, response.text.indexOf('\r\n\r\n') + 200)}`,
          );
      }
    }
    expect(problems).toEqual([]);
    await stillServes();
  }, 300_000);

  it('keeps serving websockets after clients vanish mid-handshake and mid-stream', async () => {
    for (let i = 0; i < 5; i++) {
      const socket = new WebSocket(`${serve.url.replace('http', 'ws')}events?token=${serve.token}`);
      await new Promise<void>((resolve) => {
        socket.on('open', () => {
          socket.terminate();
          resolve();
        });
        socket.on('error', () => resolve());
      });
      const half = await rawRequest(
        serve.port,
        upgrade((t) => `/events?${query(t)}`)(serve.port, serve.token),
        50,
      );
      expect([101, null]).toContain(half.status);
    }
    // The page never sends on the event socket: a frame over the limit closes that socket (1009),
    // nothing else. One byte over, not a megabyte: while a client is still sending, the server's
    // close can reach it as a reset that discards the unread close frame (1006 instead; seen once
    // in the flake audit at load 4).
    const flooder = new WebSocket(`${serve.url.replace('http', 'ws')}events?token=${serve.token}`);
    await new Promise<void>((resolve) => flooder.on('open', () => resolve()));
    const closed = new Promise<number>((resolve) => flooder.on('close', (code) => resolve(code)));
    flooder.send(Buffer.alloc(EVENT_SOCKET_MAX_PAYLOAD + 1));
    expect(await closed).toBe(1009);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(serve.alive()).toBe(true);
    const socket = new WebSocket(`${serve.url.replace('http', 'ws')}events?token=${serve.token}`);
    await new Promise<void>((resolve, reject) => {
      socket.on('open', () => resolve());
      socket.on('error', reject);
    });
    socket.close();
    await stillServes();
  });
});
