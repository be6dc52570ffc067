/**
 * Small pieces of the browser-mode HTTP transport that server.ts and team-auth.ts share: request
 * targets and cookies, JSON answers and errors, bodies with a cap, and which Host and Origin
 * headers the server answers to.
 */
import { timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import type { Duplex } from 'node:stream';
import { ApiError, type ApiErrorBody } from '../shared/contract';
import {
  HTTP_API_PREFIX,
  HTTP_EVENTS_PATH,
  HTTP_MEDIA_PREFIX,
  TOKEN_HEADER,
} from '../shared/channels';

export const MAX_BODY_BYTES = 64 * 1024 * 1024;

export const STATUS_OF: Record<ApiErrorBody['code'], number> = {
  'bad-request': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'read-only': 409,
  busy: 503,
  internal: 500,
};

export function tokensMatch(given: string | null | undefined, expected: string): boolean {
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

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(JSON.stringify(body ?? null));
}

export function sendError(res: http.ServerResponse, error: unknown): void {
  if (error instanceof ApiError) {
    sendJson(res, STATUS_OF[error.code], { code: error.code, message: error.message });
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  sendJson(res, 500, { code: 'internal', message });
}

export const PAGE_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export function headerToken(req: http.IncomingMessage): string | undefined {
  const value = req.headers[TOKEN_HEADER];
  return typeof value === 'string' ? value : undefined;
}

/** A browser asking for a page (not the API, media or the event socket). */
export function isPageRequest(req: http.IncomingMessage, url: URL): boolean {
  return (
    (req.method === 'GET' || req.method === 'HEAD') &&
    !url.pathname.startsWith(HTTP_API_PREFIX) &&
    !url.pathname.startsWith(HTTP_MEDIA_PREFIX) &&
    url.pathname !== HTTP_EVENTS_PATH
  );
}

export function rejectUpgrade(socket: Duplex, status: number, reason: string): void {
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\n\r\n`);
  socket.destroy();
}

export async function readBody(req: http.IncomingMessage): Promise<unknown> {
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

export const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

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

export function bracketed(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

/**
 * Browsers send `Origin` on websocket upgrades and on POSTs: only pages of this server may use
 * them. Another port on 127.0.0.1 is the same site, so SameSite=Strict cookies ride along from
 * there; the origin tells them apart. Clients that are not browsers send no Origin.
 */
export function originAllowed(origin: string | undefined, hosts: Set<string>): boolean {
  if (origin === undefined) return true;
  const match = /^https?:\/\/(.+)$/i.exec(origin);
  return match !== null && hosts.has(match[1].toLowerCase());
}
