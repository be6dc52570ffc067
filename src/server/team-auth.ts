/**
 * `qataseg serve --team`: every request comes from a signed-in team member. A browser signs in on
 * the server-rendered page at /login (name + password) and gets a session in an HttpOnly,
 * SameSite=Strict cookie (Secure under TLS); a script sends its personal token in the API's token
 * header. The token of the project folder (server.token) still works in that header: whoever can
 * read the project folder is its owner, which is how the CLI reaches the server that holds it.
 *
 *   GET  /login    the sign-in page          POST /login   name, password -> 303 / | 401 | 429
 *   POST /logout   ends this session -> 303 /login
 *
 * Failed sign-ins are limited per name and per address (429 with Retry-After). API calls signed
 * in by cookie must carry the token header (empty is fine): a form on another site cannot set it.
 */
import type http from 'node:http';
import type { Service } from '../core/service';
import { OWNER, type Caller } from '../core/team/caller';
import { createSession, endSession, userBySession } from '../core/team/sessions';
import { userByPassword, userByToken, type TeamUser } from '../core/team/users';
import { TOKEN_HEADER } from '../shared/channels';
import { cookieValue, isLoopbackHost, PAGE_HEADERS, sendJson, tokensMatch } from './http-util';
import { FailureLimiter } from './login-limiter';

/** What a request is for, as the gate sees it. */
export type RequestUse = 'api' | 'media' | 'page' | 'socket';

/** How the server authenticates requests when it serves a team (server.ts asks it). */
export interface RequestGate {
  /** Called once the port is known, before the first request. */
  start(settings: { port: number; secure: boolean }): void;
  /** The gate's own routes (sign in, sign out): true once it has answered. */
  route(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<boolean>;
  /** Who makes this request, or null (refused: 401, or the sign-in page for a page). */
  callerOf(req: http.IncomingMessage, url: URL, use: RequestUse): Caller | null;
  /** What a browser without a session gets for a page: the way to the sign-in page. */
  refusePage(req: http.IncomingMessage, res: http.ServerResponse): void;
}

export interface TeamGateOptions {
  service: Service;
  /** The project folder's token (server.token): accepted in the token header as the owner. */
  ownerToken?: string;
  /** Failed sign-ins allowed per name and per address within `windowMs` (defaults 5, 20, 15 min). */
  limits?: { perName?: number; perAddress?: number; windowMs?: number };
  /**
   * Behind a reverse proxy on this machine: the address of a sign-in attempt is the last entry of
   * X-Forwarded-For (only believed when the connection comes from loopback).
   */
  trustProxy?: boolean;
}

export function sessionCookieName(port: number): string {
  return `qataseg_session_${port}`;
}

const MAX_FORM_BYTES = 8 * 1024;

const LOGIN_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

/** The sign-in page; `message` says why the last attempt failed. */
export function loginPage(message: string | null, name = ''): string {
  return `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width">
<title>QaTa Seg Workstation: sign in</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; max-width: 30rem; margin: 3rem auto; padding: 0 1rem; color: #1d2430; }
  label { display: block; margin: .6rem 0; }
  input { font: inherit; width: 100%; box-sizing: border-box; }
  .note { color: #8a3b12; }
</style>
<h1>Sign in to the team's workstation</h1>
${message ? `<p class="note" role="alert" data-testid="login-error">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/login">
  <label>Name <input name="name" autocomplete="username" required value="${escapeHtml(name)}"></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit">Sign in</button>
</form>
<p>Your administrator gave you a one-time password with your name (<code>qataseg user add</code>
or Admin &gt; Users). Scripts use the personal token instead, in the <code>${TOKEN_HEADER}</code>
header.</p>
</html>
`;
}

function sendPage(res: http.ServerResponse, status: number, body: string, head = false): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': LOGIN_CSP,
    ...PAGE_HEADERS,
    // The form's POST must carry this page's Origin (no-referrer would send Origin: null).
    'referrer-policy': 'same-origin',
  });
  res.end(head ? undefined : body);
}

function redirect(res: http.ServerResponse, location: string, cookie?: string): void {
  res.writeHead(303, {
    location,
    'cache-control': 'no-store',
    ...PAGE_HEADERS,
    ...(cookie ? { 'set-cookie': cookie } : {}),
  });
  res.end();
}

async function readForm(req: http.IncomingMessage): Promise<URLSearchParams | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function userCaller(user: TeamUser): Caller {
  return { kind: 'user', userId: user.id, name: user.name, role: user.role };
}

function minutes(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  return seconds < 120 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`;
}

export function teamGate(options: TeamGateOptions): RequestGate {
  const { service } = options;
  const windowMs = options.limits?.windowMs ?? 15 * 60_000;
  const byName = new FailureLimiter(options.limits?.perName ?? 5, windowMs);
  const byAddress = new FailureLimiter(options.limits?.perAddress ?? 20, windowMs);
  let cookieName = sessionCookieName(0);
  let secure = false;
  const db = () => service.project().db;

  const sessionSecret = (req: http.IncomingMessage) => cookieValue(req.headers.cookie, cookieName);

  const addressOf = (req: http.IncomingMessage): string => {
    const peer = req.socket.remoteAddress ?? 'unknown';
    const forwarded = req.headers['x-forwarded-for'];
    if (options.trustProxy && isLoopbackHost(peer) && typeof forwarded === 'string') {
      return forwarded.split(',').at(-1)?.trim() || peer;
    }
    return peer;
  };

  const signIn = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const form = await readForm(req);
    const name = (form?.get('name') ?? '').trim();
    const password = form?.get('password') ?? '';
    const address = addressOf(req);
    const nameKey = name.toLowerCase();
    const wait = Math.max(byName.retryAfter(nameKey), byAddress.retryAfter(address));
    if (wait > 0) {
      res.setHeader('retry-after', String(Math.ceil(wait / 1000)));
      sendPage(
        res,
        429,
        loginPage(`Too many failed sign-ins. Try again in ${minutes(wait)}.`, name),
      );
      return;
    }
    const user = name && password ? await userByPassword(db(), name, password) : null;
    if (!user) {
      byName.fail(nameKey);
      byAddress.fail(address);
      sendPage(res, 401, loginPage('That name and password do not match an enabled user.', name));
      return;
    }
    byName.clear(nameKey);
    const secret = createSession(db(), user.id);
    redirect(
      res,
      '/',
      `${cookieName}=${secret}; HttpOnly; SameSite=Strict; Path=/${secure ? '; Secure' : ''}`,
    );
  };

  return {
    start(settings) {
      cookieName = sessionCookieName(settings.port);
      secure = settings.secure;
    },
    async route(req, res, url) {
      if (url.pathname === '/login') {
        if (req.method === 'POST') await signIn(req, res);
        else if (req.method === 'GET' || req.method === 'HEAD') {
          const signedIn = this.callerOf(req, url, 'page') !== null;
          if (signedIn) redirect(res, '/');
          else sendPage(res, 200, loginPage(null), req.method === 'HEAD');
        } else sendJson(res, 405, { code: 'bad-request', message: 'method not allowed' });
        return true;
      }
      if (url.pathname === '/logout') {
        if (req.method !== 'POST') {
          sendJson(res, 405, { code: 'bad-request', message: 'sign out with POST /logout' });
          return true;
        }
        const secret = sessionSecret(req);
        if (secret) endSession(db(), secret);
        redirect(res, '/login', `${cookieName}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
        return true;
      }
      return false;
    },
    callerOf(req, _url, use) {
      const header = req.headers[TOKEN_HEADER];
      const token = typeof header === 'string' ? header : undefined;
      if (token) {
        if (options.ownerToken && tokensMatch(token, options.ownerToken)) return OWNER;
        const user = userByToken(db(), token);
        return user ? userCaller(user) : null;
      }
      // A cookie rides along a cross-site form post; an API call must also name the header.
      if (use === 'api' && token === undefined) return null;
      const secret = sessionSecret(req);
      const user = secret ? userBySession(db(), secret) : null;
      return user ? userCaller(user) : null;
    },
    refusePage(req, res) {
      if (req.method === 'HEAD' || req.method === 'GET') redirect(res, '/login');
      else sendJson(res, 401, { code: 'unauthorized', message: 'sign in first' });
    },
  };
}
