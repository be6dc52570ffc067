/**
 * Exposes the contract as `window.api` and nothing else: no ipcRenderer, no Node. Calls go to the
 * main process over one invoke channel; main validates every argument with the contract's schemas.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { ApiErrorBody, EventName } from '../shared/contract';
import { createApi } from '../shared/client';
import { IPC_EVENT, IPC_INVOKE, MEDIA_SCHEME } from '../shared/channels';

type InvokeResult = { ok: true; value: unknown } | { ok: false; error: ApiErrorBody };

const api = createApi({
  async call(method, input) {
    const result = (await ipcRenderer.invoke(IPC_INVOKE, method, input)) as InvokeResult;
    // contextBridge copies a thrown Error without its own properties, so the code would be lost:
    // reject with the plain { code, message } body, which the bridge copies whole; the renderer's
    // api (src/renderer/src/api.ts) turns it back into an ApiError.
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- see above
    if (!result.ok) return Promise.reject({ ...result.error });
    return result.value;
  },
  subscribe(listener) {
    const handler = (_event: unknown, name: EventName, payload: unknown) => listener(name, payload);
    ipcRenderer.on(IPC_EVENT, handler);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT, handler);
    };
  },
  mediaUrl(kind, id, query) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) search.set(key, String(value));
    const suffix = search.size > 0 ? `?${search.toString()}` : '';
    return `${MEDIA_SCHEME}://${kind}/${id}${suffix}`;
  },
});

contextBridge.exposeInMainWorld('api', api);
