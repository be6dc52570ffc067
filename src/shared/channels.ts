/** Names shared by the Electron main process and the preload (kept out of the contract's types). */
export const IPC_INVOKE = 'qataseg:invoke';
export const IPC_EVENT = 'qataseg:event';
/** Custom protocol serving images and masks by id: `qataseg-media://image/12`. */
export const MEDIA_SCHEME = 'qataseg-media';
/** Browser mode: HTTP routes. */
export const HTTP_API_PREFIX = '/api/';
export const HTTP_MEDIA_PREFIX = '/media/';
export const HTTP_EVENTS_PATH = '/events';
/** The page only listens on the event socket: a client's frame is never more than a close or a ping. */
export const EVENT_SOCKET_MAX_PAYLOAD = 4096;
export const TOKEN_HEADER = 'x-qataseg-token';
export const TOKEN_QUERY = 'token';
/** Desktop menu bar: the renderer's action state in, the clicked action's id out. */
export const IPC_MENU_STATE = 'qataseg:menu-state';
export const IPC_MENU_ACTION = 'qataseg:menu-action';
/** Desktop "Open team project…": an address in, the window opened or the reason out; recent URLs. */
export const IPC_TEAM_OPEN = 'qataseg:team-open';
export const IPC_TEAM_RECENT = 'qataseg:team-recent';
