/**
 * The renderer's only door to the application: `window.api` from the Electron preload, or, in
 * browser mode, the same contract over HTTP + WebSocket with the token from the page URL.
 */
import {
  ApiError,
  apiErrorCode,
  methodNames,
  toApiError,
  type Api,
  type EventName,
  type MediaKind,
} from '../../shared/contract';
import { createApi, type Transport } from '../../shared/client';
import {
  HTTP_API_PREFIX,
  HTTP_EVENTS_PATH,
  HTTP_MEDIA_PREFIX,
  TOKEN_HEADER,
  TOKEN_QUERY,
} from '../../shared/channels';
import { connectionLost, connectionOpened, useConnection } from './connection';

declare global {
  interface Window {
    api?: Api;
  }
}

const TOKEN_STORAGE_KEY = 'qataseg.token';

/** Takes the token from `?token=` once, keeps it for reloads, and removes it from the address bar. */
function takeToken(): string {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get(TOKEN_QUERY);
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_STORAGE_KEY, fromUrl);
    url.searchParams.delete(TOKEN_QUERY);
    window.history.replaceState(null, '', url.toString());
    return fromUrl;
  }
  return sessionStorage.getItem(TOKEN_STORAGE_KEY) ?? '';
}

/**
 * Whether the server answers but refuses `token` (it restarted with a new one). A socket closing
 * does not say why; a plain request does. Never rejects: an unreachable server is not a refusal.
 */
async function tokenRefused(token: string): Promise<boolean> {
  try {
    const response = await fetch(`${HTTP_API_PREFIX}app.info`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [TOKEN_HEADER]: token },
      body: '{}',
    });
    return response.status === 401;
  } catch {
    return false;
  }
}

export function httpTransport(token: string): Transport {
  const listeners = new Set<(event: EventName, payload: unknown) => void>();
  let socket: WebSocket | null = null;
  let retryMs = 500;

  const connect = () => {
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    socket = new WebSocket(
      `${scheme}://${window.location.host}${HTTP_EVENTS_PATH}?${TOKEN_QUERY}=${encodeURIComponent(token)}`,
    );
    socket.onmessage = (message) => {
      const { event, payload } = JSON.parse(String(message.data)) as {
        event: EventName;
        payload: unknown;
      };
      for (const listener of listeners) listener(event, payload);
    };
    socket.onopen = () => {
      retryMs = 500;
      connectionOpened();
    };
    socket.onclose = () => {
      socket = null;
      void tokenRefused(token).then((refused) => connectionLost(refused));
      // The server may restart: reconnect with a capped backoff.
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 5000);
    };
  };

  return {
    async call(method, input) {
      const response = await fetch(`${HTTP_API_PREFIX}${encodeURIComponent(method)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [TOKEN_HEADER]: token },
        body: JSON.stringify(input ?? {}),
      });
      const body = (await response.json()) as unknown;
      if (!response.ok) {
        const error = body as { code?: ApiError['code']; message?: string };
        throw new ApiError(error.code ?? 'internal', error.message ?? response.statusText);
      }
      return body;
    },
    subscribe(listener) {
      listeners.add(listener);
      if (!socket) connect();
      return () => listeners.delete(listener);
    },
    mediaUrl(kind: MediaKind, id: number, query?: Record<string, string | number>) {
      const search = new URLSearchParams();
      for (const [key, value] of Object.entries(query ?? {})) search.set(key, String(value));
      const suffix = search.size > 0 ? `?${search.toString()}` : '';
      // Authenticated by the SameSite=Strict cookie the server set when the page was opened.
      return `${HTTP_MEDIA_PREFIX}${kind}/${id}${suffix}`;
    },
  };
}

export const transportName: 'electron' | 'http' = window.api ? 'electron' : 'http';

/**
 * The preload's `window.api` rejects with plain { code, message } bodies (contextBridge would drop
 * an Error's code): turn them back into ApiError, so `error.code` (e.g. 'conflict') means the same
 * on every transport.
 */
export function withApiErrors(bridged: Api): Api {
  const api: Record<string, unknown> = {
    on: (...args: Parameters<Api['on']>) => bridged.on(...args),
    mediaUrl: (...args: Parameters<Api['mediaUrl']>) => bridged.mediaUrl(...args),
  };
  for (const method of methodNames) {
    const call = bridged[method] as (input?: unknown) => Promise<unknown>;
    api[method] = (input?: unknown) =>
      call(input).catch((error: unknown) => {
        throw toApiError(error);
      });
  }
  return api as Api;
}

const readOnlyListeners = new Set<() => void>();
const unauthorizedListeners = new Set<() => void>();

/** Runs `listener` whenever the host answers 401 (in `serve --team`: this page is signed out). */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/**
 * Runs `listener` whenever the host refuses a request because the project is open read-only: a
 * page that did not know (it missed the state) learns it from the first refused write.
 */
export function onReadOnlyRefusal(listener: () => void): () => void {
  readOnlyListeners.add(listener);
  return () => readOnlyListeners.delete(listener);
}

function watchReadOnly(inner: Api): Api {
  const api: Record<string, unknown> = {
    on: (...args: Parameters<Api['on']>) => inner.on(...args),
    mediaUrl: (...args: Parameters<Api['mediaUrl']>) => inner.mediaUrl(...args),
  };
  for (const method of methodNames) {
    const call = inner[method] as (input?: unknown) => Promise<unknown>;
    api[method] = (input?: unknown) =>
      call(input).catch((error: unknown) => {
        if (apiErrorCode(error) === 'read-only')
          readOnlyListeners.forEach((listener) => listener());
        if (apiErrorCode(error) === 'unauthorized')
          unauthorizedListeners.forEach((listener) => listener());
        throw error;
      });
  }
  return api as Api;
}

export const api: Api = watchReadOnly(
  window.api ? withApiErrors(window.api) : createApi(httpTransport(takeToken())),
);

// The desktop app's IPC has no connection to lose.
if (transportName === 'electron') useConnection.setState({ state: 'open' });
