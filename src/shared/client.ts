/**
 * Builds an `Api` object from a transport's three primitives. Used by the preload (IPC) and by the
 * renderer in browser mode (HTTP + WebSocket), so both expose exactly the contract's methods.
 */
import type { Api, EventName, EventPayload, MediaKind, MethodName } from './contract';
import { methodNames } from './contract';

export interface Transport {
  call(method: MethodName, input: unknown): Promise<unknown>;
  subscribe(listener: (event: EventName, payload: unknown) => void): () => void;
  mediaUrl(kind: MediaKind, id: number, query?: Record<string, string | number>): string;
}

export function createApi(transport: Transport): Api {
  const api: Record<string, unknown> = {};
  for (const method of methodNames) {
    api[method] = (input?: unknown) => transport.call(method, input ?? {});
  }
  api.on = <E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void) =>
    transport.subscribe((name, payload) => {
      if (name === event) listener(payload as EventPayload<E>);
    });
  api.mediaUrl = (kind: MediaKind, id: number, query?: Record<string, string | number>) =>
    transport.mediaUrl(kind, id, query);
  return api as Api;
}
