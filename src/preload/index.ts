/**
 * Exposes the contract as `window.api` and nothing else: no ipcRenderer, no Node. Calls go to the
 * main process over one invoke channel; main validates every argument with the contract's schemas.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { ApiErrorBody, EventName } from '../shared/contract';
import { createApi } from '../shared/client';
import type { AppMenuState } from '../shared/app-menu';
import { recentTeamUrlsSchema, teamOpenResultSchema } from '../shared/team-open';
import {
  IPC_EVENT,
  IPC_INVOKE,
  IPC_MENU_ACTION,
  IPC_MENU_STATE,
  IPC_TEAM_OPEN,
  IPC_TEAM_RECENT,
  MEDIA_SCHEME,
} from '../shared/channels';

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

// The menu bar: the page says what each action is called and whether it can run; a click comes
// back as the action's id (main validates the state with the shared schema).
api.appMenu = {
  set(state: AppMenuState) {
    ipcRenderer.send(IPC_MENU_STATE, state);
  },
  onAction(listener: (id: string) => void) {
    const handler = (_event: unknown, id: unknown) => {
      if (typeof id === 'string') listener(id);
    };
    ipcRenderer.on(IPC_MENU_ACTION, handler);
    return () => {
      ipcRenderer.removeListener(IPC_MENU_ACTION, handler);
    };
  },
};

// "Open team project…": main checks the address and opens the team server in a window of its
// own (no preload there); the answer says whether it opened, or why not.
api.teamProjects = {
  async open(url: string) {
    return teamOpenResultSchema.parse(await ipcRenderer.invoke(IPC_TEAM_OPEN, url));
  },
  async recent() {
    return recentTeamUrlsSchema.parse(await ipcRenderer.invoke(IPC_TEAM_RECENT));
  },
};

contextBridge.exposeInMainWorld('api', api);
