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
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { type AddressInfo } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ApiError, mediaKindSchema, type EventPayload } from '../shared/contract';
import {
  EVENT_SOCKET_MAX_PAYLOAD,
  HTTP_API_PREFIX,
  HTTP_EVENTS_PATH,
  HTTP_MEDIA_PREFIX,
  TOKEN_HEADER,
  TOKEN_QUERY,
} from '../shared/channels';
import type { Service } from '../core/service';
import { generateToken, TOKEN_FILE } from './session-token';
import type { RequestGate, RequestUse } from './team-auth';
import { OWNER, type Caller } from '../core/team/caller';
import { eventFor, type EventContext } from '../core/team/visibility';
import {
  allowedHosts,
  bracketed,
  cookieValue,
  headerToken,
  isLoopbackHost,
  isPageRequest,
  originAllowed,
  PAGE_HEADERS,
  parseTarget,
  readBody,
  rejectUpgrade,
  remoteExposure,
  safeDecode,
  sendError,
  sendJson,
  tokensMatch,
  WILDCARD_HOSTS,
} from './http-util';

export {
  allowedHosts,
  cookieValue,
  isLoopbackHost,
  originAllowed,
  parseTarget,
  remoteExposure,
  safeDecode,
};

/**
 * The cookie carrying the token, one name per port: cookies do not keep ports apart, so two
 * servers on one machine would otherwise overwrite each other's cookie.
 */
export function tokenCookieName(port: number): string {
  return `qataseg_token_${port}`;
}

export interface ServerOptions {
  service: Service;
  host?: string;
  port?: number;
  token?: string;
  /** Folder of the built renderer (index.html + assets); null serves a short notice instead. */
  staticDir?: string | null;
  /** Binding an address other than loopback must be asked for (`--allow-remote`). */
  allowRemote?: boolean;
  /** `serve --team`: every request from a signed-in team member (./team-auth.ts). */
  team?: RequestGate;
  /** HTTPS with this certificate and key (PEM). */
  tls?: { cert: Buffer; key: Buffer };
  /**
   * The address people open when a reverse proxy sits in front (e.g. https://team.example.org):
   * its host is answered to and its origin allowed.
   */
  publicUrl?: string;
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

  const team = options.team ?? null;
  const secure = options.tls !== undefined;
  const authorised = (req: http.IncomingMessage, url: URL): boolean =>
    tokensMatch(headerToken(req), token) ||
    tokensMatch(url.searchParams.get(TOKEN_QUERY), token) ||
    tokensMatch(cookieValue(req.headers.cookie, tokenCookieName(port)), token);
  /** Who makes the request: the owner by token, a team member through the gate, or null. */
  const callerOf = (req: http.IncomingMessage, url: URL, use: RequestUse): Caller | null =>
    team ? team.callerOf(req, url, use) : authorised(req, url) ? OWNER : null;

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
    const tokenInUrl = !team && tokensMatch(url.searchParams.get(TOKEN_QUERY), token);
    const redirectWithToken = !team && !tokenInUrl && !tokensMatch(headerToken(req), token);
    if (file.endsWith('index.html') && redirectWithToken) {
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
        `${tokenCookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/${secure ? '; Secure' : ''}`;
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
    if (team && (await team.route(req, res, url))) return;
    const use: RequestUse = url.pathname.startsWith(HTTP_API_PREFIX)
      ? 'api'
      : url.pathname.startsWith(HTTP_MEDIA_PREFIX)
        ? 'media'
        : 'page';
    const caller = callerOf(req, url, use);
    if (!caller) {
      if (isPageRequest(req, url)) {
        if (team) team.refusePage(req, res);
        else sendTokenPage(res, req.method === 'HEAD', url.searchParams.has(TOKEN_QUERY));
        return;
      }
      sendJson(res, 401, {
        code: 'unauthorized',
        message: team
          ? 'sign in first (/login), or send a personal token in the token header'
          : 'a valid token is required: open the URL printed by `qataseg serve`',
      });
      return;
    }
    if (url.pathname.startsWith(HTTP_API_PREFIX)) {
      if (req.method !== 'POST') {
        sendJson(res, 405, { code: 'bad-request', message: 'use POST for API calls' });
        return;
      }
      // Cookies ride along cross-site form posts; API calls must name the token in a header.
      if (!team && !tokensMatch(headerToken(req), token)) {
        sendJson(res, 401, {
          code: 'unauthorized',
          message: `API calls need the ${TOKEN_HEADER} header`,
        });
        return;
      }
      const method = safeDecode(url.pathname.slice(HTTP_API_PREFIX.length)) ?? '';
      const input = await readBody(req);
      const output = await service.call(method, input, caller);
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
      const media = await service.media(kind.data, id, url.searchParams, caller);
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

  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, error);
      else res.destroy();
    });
  };
  const server = options.tls
    ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, listener)
    : http.createServer(listener);

  const sockets = new WebSocketServer({ noServer: true, maxPayload: EVENT_SOCKET_MAX_PAYLOAD });
  // Each socket with who opened it: a team member's sockets close when their sessions end.
  const clients = new Map<WebSocket, Caller>();
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    // Node hands the socket over without an error listener: a reset must not crash the server.
    socket.on('error', () => socket.destroy());
    try {
      const url = parseTarget(req.url);
      if (!url) return rejectUpgrade(socket, 400, 'Bad Request');
      if (!hostAllowed(req.headers.host) || !originAllowed(req.headers.origin, hosts))
        return rejectUpgrade(socket, 403, 'Forbidden');
      const caller = callerOf(req, url, 'socket');
      if (!caller) return rejectUpgrade(socket, 401, 'Unauthorized');
      if (url.pathname !== HTTP_EVENTS_PATH) return rejectUpgrade(socket, 404, 'Not Found');
      sockets.handleUpgrade(req, socket, head, (ws) => {
        clients.set(ws, caller);
        ws.on('error', () => ws.terminate());
        ws.on('close', () => clients.delete(ws));
      });
    } catch {
      rejectUpgrade(socket, 400, 'Bad Request');
    }
  });
  const unsubscribe = service.subscribe((event, payload, origin) => {
    // Each socket hears what its caller may (the blind rule, core/team/visibility.ts).
    const context: EventContext = { origin, db: service.projectOrNull()?.db ?? null };
    const messages = new Map<unknown, string>();
    for (const [client, caller] of clients) {
      if (client.readyState !== client.OPEN) continue;
      const heard = eventFor(caller, event, payload as EventPayload<typeof event>, context);
      if (heard === null) continue;
      let message = messages.get(heard);
      if (message === undefined) {
        message = JSON.stringify({ event, payload: heard });
        messages.set(heard, message);
      }
      client.send(message);
    }
    if (event === 'team.sessionsEnded') {
      // Disabled or reset: their open pages lose the event socket now, not at their next request.
      const { userId } = payload as { userId: number };
      for (const [client, caller] of clients) {
        if (caller.kind === 'user' && caller.userId === userId) client.close(1008, 'signed out');
      }
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  hosts = allowedHosts(host, port);
  if (options.publicUrl) hosts.add(new URL(options.publicUrl).host.toLowerCase());
  // Behind an HTTPS proxy the browser sees HTTPS too: its cookies can be Secure.
  team?.start({ port, secure: secure || /^https:/i.test(options.publicUrl ?? '') });
  // A wildcard address is not something a browser can open; this machine reaches it on loopback.
  const shownHost = WILDCARD_HOSTS.has(host) ? '127.0.0.1' : bracketed(host);
  const url = `${secure ? 'https' : 'http'}://${shownHost}:${port}/`;
  return {
    url,
    urlWithToken: `${url}?${TOKEN_QUERY}=${token}`,
    token,
    host,
    port,
    close: async () => {
      unsubscribe();
      for (const client of clients.keys()) client.terminate();
      sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
