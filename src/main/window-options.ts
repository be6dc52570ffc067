/**
 * The BrowserWindow options and security policy of the workstation window, kept free of runtime
 * electron imports so tests can check them under plain Node.
 */
import type { BrowserWindowConstructorOptions } from 'electron';
import { MEDIA_SCHEME } from '../shared/channels';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  `img-src 'self' data: blob: ${MEDIA_SCHEME}:`,
  `connect-src 'self' ${MEDIA_SCHEME}:`,
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

/** What every window of the app has: the page is isolated from Node and from the app's code. */
const SECURE_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  webviewTag: false,
  spellcheck: false,
} as const;

const WINDOW_FRAME = {
  width: 1440,
  height: 900,
  minWidth: 960,
  minHeight: 600,
  show: false,
  backgroundColor: '#111418',
} as const;

export function createWindowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    ...WINDOW_FRAME,
    title: 'QaTa Seg Workstation',
    webPreferences: { preload: preloadPath, ...SECURE_PREFERENCES },
  };
}

/**
 * The session of team windows: apart from the local window's, so a remote page gets neither the
 * `qataseg-media:` protocol (the local project's images) nor the local page's CSP, and its
 * cookies live apart from the app's own page. Persisted like a browser profile.
 */
export const TEAM_PARTITION = 'persist:qataseg-team';

/**
 * A window showing a team server's pages (`serve --team`): no preload, so the remote page has no
 * `window.api` and no IPC at all; it runs the browser-mode UI over HTTP + WebSocket.
 */
export function createTeamWindowOptions(origin: string): BrowserWindowConstructorOptions {
  return {
    ...WINDOW_FRAME,
    title: `QaTa Seg Workstation: team project at ${origin}`,
    webPreferences: { ...SECURE_PREFERENCES, partition: TEAM_PARTITION },
  };
}

/** What a window a team page opens (same origin only) gets: the same isolation, no preload. */
export function teamChildWindowOptions(): BrowserWindowConstructorOptions {
  return { webPreferences: { ...SECURE_PREFERENCES } };
}

/** Navigation stays on the app's own pages: anything else is refused. */
export function isAllowedNavigation(target: string, appUrl: string): boolean {
  try {
    const to = new URL(target);
    const app = new URL(appUrl);
    if (app.protocol === 'file:') return to.protocol === 'file:' && to.pathname === app.pathname;
    return to.origin === app.origin;
  } catch {
    return false;
  }
}

/** IPC is answered only for the main frame of our own page. */
export function isTrustedSender(frameUrl: string | undefined, appUrl: string): boolean {
  return frameUrl !== undefined && isAllowedNavigation(frameUrl, appUrl);
}
