/**
 * Browser mode: the contract over HTTP + WebSocket on loopback, for `qataseg serve` and the e2e
 * tests. Like Jupyter, a random token is printed in the URL; every request and socket must carry
 * it (header, query or the SameSite=Strict cookie set when the page is opened with it).
 *
 *   POST /api/<method>   JSON body = input        -> 200 output | 400 | 401 | 404 | 409 | 500
 *   GET  /media/<kind>/<id>                         -> image, thumbnail, mask or reading revision by id
 *   GET  /events         WebSocket of { event, payload } messages
 *   GET  /*              the renderer bundle (out/renderer)
 */
import { timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ApiError, mediaKindSchema, type ApiErrorBody } from '../shared/contract';
import {
  HTTP_API_PREFIX,
  HTTP_EVENTS_PATH,
  HTTP_MEDIA_PREFIX,
  TOKEN_HEADER,
  TOKEN_QUERY,
} from '../shared/channels';
import type { Service } from '../core/service';
import { generateToken, TOKEN_FILE } from './session-token';

/**
 * The cookie carrying the token, one name per port: cookies do not keep ports apart, so two
 * servers on one machine would otherwise overwrite each other's cookie.
 */
export function tokenCookieName(port: number): string {
  return `qataseg_token_${port}`;
}
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface ServerOptions {
  service: Service;
  host?: string;
  port?: number;
  token?: string;
  /** Folder of the built renderer (index.html + assets); null serves a short notice instead. */
  staticDir?: string | null;
  /** Binding an address other than loopback must be asked for (`--allow-remote`). */
  allowRemote?: boolean;
}

export interface RunningServer {
  url: string;
  /** URL a person opens: with the token. */
  urlWithToken: string;
  token: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

const STATUS_OF: Record<ApiErrorBody['code'], number> = {
  'bad-request': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'read-only': 409,
  busy: 503,
  internal: 500,
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
};

/** Same policy as the Electron window; 'self' covers the same-origin WebSocket. */
export const BROWSER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self' ws: wss:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

export { generateToken };

function tokensMatch(given: string | null | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** decodeURIComponent that answers null for malformed percent-encoding instead of throwing. */
export function safeDecode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/**
 * The request target as a URL whose path decodes, or null (answered 400): `new URL` throws on
 * targets such as `http://[::1`, decodeURIComponent on `%E0%A4%A`.
 */
export function parseTarget(target: string | undefined): URL | null {
  let url: URL;
  try {
    url = new URL(target ?? '/', 'http://localhost');
  } catch {
    return null;
  }
  return safeDecode(url.pathname) === null ? null : url;
}

/** A cookie's value; a malformed one counts as absent. */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return safeDecode(rest.join('='));
  }
  return null;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(JSON.stringify(body ?? null));
}

function sendError(res: http.ServerResponse, error: unknown): void {
  if (error instanceof ApiError) {
    sendJson(res, STATUS_OF[error.code], { code: error.code, message: error.message });
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  sendJson(res, 500, { code: 'internal', message });
}

/**
 * Sends one file of the renderer bundle (small files: read whole, so a read error still gets a
 * status). A file that vanished or cannot be read fails this response only.
 */
export async function sendStaticFile(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  file: string,
  headers: Record<string, string>,
  shownName: string,
): Promise<void> {
  let body: Buffer;
  try {
    body = await fs.promises.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const missing = code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR';
    sendJson(res, missing ? 404 : 500, {
      code: missing ? 'not-found' : 'internal',
      message: `could not read ${shownName}${code ? ` (${code})` : ''}`,
    });
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': String(body.length) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

const PAGE_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function headerToken(req: http.IncomingMessage): string | undefined {
  const value = req.headers[TOKEN_HEADER];
  return typeof value === 'string' ? value : undefined;
}

/** A browser asking for a page (not the API, media or the event socket). */
function isPageRequest(req: http.IncomingMessage, url: URL): boolean {
  return (
    (req.method === 'GET' || req.method === 'HEAD') &&
    !url.pathname.startsWith(HTTP_API_PREFIX) &&
    !url.pathname.startsWith(HTTP_MEDIA_PREFIX) &&
    url.pathname !== HTTP_EVENTS_PATH
  );
}

/** The page a browser without the token gets: how to get in, and a field to paste the token. */
export const TOKEN_PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width">
<title>QaTa Seg Workstation: access token needed</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; max-width: 42rem; margin: 3rem auto; padding: 0 1rem; color: #1d2430; }
  code { background: #eef1f5; padding: 0 .25rem; border-radius: 3px; }
  input { font: inherit; width: 26rem; max-width: 100%; }
  .note { color: #8a3b12; }
</style>
<h1>This workstation needs its access token</h1>
<p class="note" hidden>The token in this address is not the current one.</p>
<p>Open the address that <code>qataseg serve</code> printed when it started: it ends with
<code>?token=…</code>. Other tabs of the same browser then get in by themselves.</p>
<p>The token stays the same when the server restarts on the same project. It is kept in the project
folder, in the file <code>${TOKEN_FILE}</code>, readable only by the user who runs the server.
<code>qataseg serve --new-token</code> replaces it (addresses with the old token stop working).</p>
<form method="get" action="/">
  <label>Token <input name="token" autocomplete="off" spellcheck="false" required></label>
  <button type="submit">Open</button>
</form>
</html>
`;

const TOKEN_PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

function sendTokenPage(res: http.ServerResponse, head: boolean, wrongToken: boolean): void {
  const body = wrongToken ? TOKEN_PAGE.replace('class="note" hidden', 'class="note"') : TOKEN_PAGE;
  res.writeHead(401, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': TOKEN_PAGE_CSP,
    ...PAGE_HEADERS,
  });
  res.end(head ? undefined : body);
}

function rejectUpgrade(socket: Duplex, status: number, reason: string): void {
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\n\r\n`);
  socket.destroy();
}

async function readBody(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new ApiError('bad-request', 'request body too large');
    chunks.push(buffer);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new ApiError('bad-request', 'request body is not valid JSON');
  }
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`: reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (bare === 'localhost' || bare === '::1') return true;
  const v4 = bare.startsWith('::ffff:') ? bare.slice('::ffff:'.length) : bare;
  return net.isIPv4(v4) && v4.startsWith('127.');
}

/** What binding a non-loopback address exposes, in the words the CLI prints. */
export function remoteExposure(host: string, port: number): string {
  const where = WILDCARD_HOSTS.has(host)
    ? 'every interface of this machine'
    : `the address ${host}`;
  return (
    `anyone who can reach ${where} on port ${port || '(the chosen port)'} can try the token; ` +
    'with it they can see every image and mask of the open project, change labels, start ' +
    'training and write exports. Browser mode is plain HTTP: the token, images and labels ' +
    'cross the network unencrypted'
  );
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

/**
 * The `Host` values this server answers to: the loopback names, the bound address and, when bound
 * to every interface, this machine's addresses and name. A page on another site cannot rebind its
 * DNS name to us, since its Host header names that site.
 */
export function allowedHosts(bindHost: string, port: number): Set<string> {
  const names = new Set(['127.0.0.1', 'localhost', '[::1]', bracketed(bindHost.toLowerCase())]);
  if (WILDCARD_HOSTS.has(bindHost)) {
    names.add(os.hostname().toLowerCase());
    for (const addresses of Object.values(os.networkInterfaces())) {
      for (const address of addresses ?? []) {
        if (bindHost === '0.0.0.0' && address.family !== 'IPv4') continue;
        names.add(bracketed(address.address.toLowerCase()));
      }
    }
  }
  return new Set([...names].map((name) => `${name}:${port}`));
}

function bracketed(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

/**
 * Browsers send `Origin` on websocket upgrades and on POSTs: only pages of this server may use
 * them. Another port on 127.0.0.1 is the same site, so SameSite=Strict cookies ride along from
 * there; the origin tells them apart. Clients that are not browsers send no Origin.
 */
export function originAllowed(origin: string | undefined, hosts: Set<string>): boolean {
  if (origin === undefined) return true;
  const match = /^http:\/\/(.+)$/i.exec(origin);
  return match !== null && hosts.has(match[1].toLowerCase());
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { service } = options;
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host) && !options.allowRemote) {
    throw new Error(
      `${host} is not a loopback address: ${remoteExposure(host, options.port ?? 0)}. Pass --allow-remote to do this on purpose.`,
    );
  }
  const token = options.token ?? generateToken();
  const staticDir = options.staticDir ?? null;
  let port = options.port ?? 0;
  // Filled in once the port is known (before the first request can arrive).
  let hosts = new Set<string>();
  const hostAllowed = (header: string | undefined) =>
    header !== undefined && hosts.has(header.toLowerCase());

  const authorised = (req: http.IncomingMessage, url: URL): boolean =>
    tokensMatch(headerToken(req), token) ||
    tokensMatch(url.searchParams.get(TOKEN_QUERY), token) ||
    tokensMatch(cookieValue(req.headers.cookie, tokenCookieName(port)), token);

  const serveStatic = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
  ): Promise<void> => {
    const securityHeaders = { 'content-security-policy': BROWSER_CSP, ...PAGE_HEADERS };
    if (!staticDir || !fs.existsSync(path.join(staticDir, 'index.html'))) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', ...securityHeaders });
      res.end('The renderer is not built yet: run `npm run build` (npm start does it for you).\n');
      return;
    }
    const relative = (safeDecode(url.pathname) ?? '').replace(/^\/+/, '') || 'index.html';
    const resolved = path.resolve(staticDir, relative);
    const inside = resolved.startsWith(path.resolve(staticDir) + path.sep);
    const isFile = inside && (await fs.promises.stat(resolved).catch(() => null))?.isFile();
    const file = isFile ? resolved : path.join(staticDir, 'index.html');
    const tokenInUrl = tokensMatch(url.searchParams.get(TOKEN_QUERY), token);
    if (file.endsWith('index.html') && !tokenInUrl && !tokensMatch(headerToken(req), token)) {
      // A new tab of a browser that already holds the cookie: hand the page its token the way
      // the printed URL does (only this origin can read where the redirect leads).
      const target = new URL(url);
      target.searchParams.set(TOKEN_QUERY, token);
      res.writeHead(302, { location: `${target.pathname}${target.search}`, ...PAGE_HEADERS });
      res.end();
      return;
    }
    const headers: Record<string, string> = {
      'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
      ...securityHeaders,
      'cache-control': file.endsWith('index.html') ? 'no-store' : 'public, max-age=3600',
    };
    if (tokenInUrl) {
      headers['set-cookie'] =
        `${tokenCookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    }
    await sendStaticFile(req, res, file, headers, path.relative(staticDir, file));
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = parseTarget(req.url);
    if (!url) {
      sendJson(res, 400, { code: 'bad-request', message: 'malformed request target' });
      return;
    }
    if (!hostAllowed(req.headers.host)) {
      sendJson(res, 403, { code: 'unauthorized', message: 'host not allowed' });
      return;
    }
    const readOnlyMethod = req.method === 'GET' || req.method === 'HEAD';
    if (!readOnlyMethod && !originAllowed(req.headers.origin, hosts)) {
      sendJson(res, 403, { code: 'unauthorized', message: 'origin not allowed' });
      return;
    }
    if (!authorised(req, url)) {
      if (isPageRequest(req, url)) {
        sendTokenPage(res, req.method === 'HEAD', url.searchParams.has(TOKEN_QUERY));
        return;
      }
      sendJson(res, 401, {
        code: 'unauthorized',
        message: 'a valid token is required: open the URL printed by `qataseg serve`',
      });
      return;
    }
    if (url.pathname.startsWith(HTTP_API_PREFIX)) {
      if (req.method !== 'POST') {
        sendJson(res, 405, { code: 'bad-request', message: 'use POST for API calls' });
        return;
      }
      // Cookies ride along cross-site form posts; API calls must name the token in a header.
      if (!tokensMatch(headerToken(req), token)) {
        sendJson(res, 401, {
          code: 'unauthorized',
          message: `API calls need the ${TOKEN_HEADER} header`,
        });
        return;
      }
      const method = safeDecode(url.pathname.slice(HTTP_API_PREFIX.length)) ?? '';
      const input = await readBody(req);
      const output = await service.call(method, input);
      sendJson(res, 200, output);
      return;
    }
    if (url.pathname.startsWith(HTTP_MEDIA_PREFIX)) {
      const [kindText, idText] = url.pathname.slice(HTTP_MEDIA_PREFIX.length).split('/');
      const kind = mediaKindSchema.safeParse(kindText);
      const id = Number(idText);
      if (!kind.success || !Number.isInteger(id) || id <= 0) {
        throw new ApiError(
          'bad-request',
          'media URLs are /media/<image|thumbnail|mask|reading>/<id>',
        );
      }
      const media = await service.media(kind.data, id, url.searchParams);
      res.writeHead(200, {
        'content-type': media.contentType,
        'cache-control': media.immutable ? 'private, max-age=31536000, immutable' : 'no-cache',
        'x-content-type-options': 'nosniff',
      });
      res.end(media.body);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { code: 'bad-request', message: 'method not allowed' });
      return;
    }
    await serveStatic(req, res, url);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, error);
      else res.destroy();
    });
  });

  // The page only listens on this socket: a client's frame is never more than a close or a ping.
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const clients = new Set<WebSocket>();
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    // Node hands the socket over without an error listener: a reset must not crash the server.
    socket.on('error', () => socket.destroy());
    try {
      const url = parseTarget(req.url);
      if (!url) return rejectUpgrade(socket, 400, 'Bad Request');
      if (!hostAllowed(req.headers.host) || !originAllowed(req.headers.origin, hosts))
        return rejectUpgrade(socket, 403, 'Forbidden');
      if (!authorised(req, url)) return rejectUpgrade(socket, 401, 'Unauthorized');
      if (url.pathname !== HTTP_EVENTS_PATH) return rejectUpgrade(socket, 404, 'Not Found');
      sockets.handleUpgrade(req, socket, head, (ws) => {
        clients.add(ws);
        ws.on('error', () => ws.terminate());
        ws.on('close', () => clients.delete(ws));
      });
    } catch {
      rejectUpgrade(socket, 400, 'Bad Request');
    }
  });
  const unsubscribe = service.subscribe((event, payload) => {
    const message = JSON.stringify({ event, payload });
    for (const client of clients) if (client.readyState === client.OPEN) client.send(message);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  hosts = allowedHosts(host, port);
  // A wildcard address is not something a browser can open; this machine reaches it on loopback.
  const shownHost = WILDCARD_HOSTS.has(host) ? '127.0.0.1' : bracketed(host);
  const url = `http://${shownHost}:${port}/`;
  return {
    url,
    urlWithToken: `${url}?${TOKEN_QUERY}=${token}`,
    token,
    host,
    port,
    close: async () => {
      unsubscribe();
      for (const client of clients) client.terminate();
      sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
