/**
 * Team windows: a team server's own pages (`qataseg serve --team`: its sign-in page, then the
 * browser-mode UI over HTTP + WebSocket) in a window of the desktop app. The window has no preload
 * (no `window.api`, no IPC), lives in its own session (no `qataseg-media:` protocol, no local
 * cookies), and stays on the server's origin: navigation, redirects, frames and window.open
 * elsewhere are refused. Certificate errors are never bypassed: the app has no
 * `certificate-error` handler, so Chromium refuses the page and the user is told why.
 * The rules themselves are in team-url.ts (tested under Node); this file wires them to Electron.
 */
import { BrowserWindow, dialog, ipcMain, session, type WebContents } from 'electron';
import { IPC_TEAM_OPEN, IPC_TEAM_RECENT } from '../shared/channels';
import { teamOpenInputSchema, type TeamOpenResult } from '../shared/team-open';
import {
  isAllowedTeamNavigation,
  parseTeamUrl,
  readRecentTeamUrls,
  rememberTeamUrl,
  teamLoadFailureMessage,
  type TeamUrl,
} from './team-url';
import {
  createTeamWindowOptions,
  isTrustedSender,
  TEAM_PARTITION,
  teamChildWindowOptions,
} from './window-options';

const teamWindows = new WeakSet<BrowserWindow>();

/** Whether `window` shows a team server's pages (not the app's own page). */
export function isTeamWindow(window: BrowserWindow | null): boolean {
  return window !== null && teamWindows.has(window);
}

let teamSessionReady = false;

/** The team windows' session: every permission request (camera, notifications…) refused. */
function prepareTeamSession(): void {
  if (teamSessionReady) return;
  const teamSession = session.fromPartition(TEAM_PARTITION);
  teamSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  teamSession.setPermissionCheckHandler(() => false);
  teamSessionReady = true;
}

/** Keeps `contents` (and every window it opens) on `origin`. */
function lockToOrigin(contents: WebContents, origin: string): void {
  contents.setWindowOpenHandler(({ url }) =>
    isAllowedTeamNavigation(url, origin)
      ? { action: 'allow', overrideBrowserWindowOptions: teamChildWindowOptions() }
      : { action: 'deny' },
  );
  contents.on('did-create-window', (child) => {
    teamWindows.add(child);
    lockToOrigin(child.webContents, origin);
  });
  contents.on('will-frame-navigate', (event) => {
    if (!isAllowedTeamNavigation(event.url, origin)) event.preventDefault();
  });
  contents.on('will-redirect', (event) => {
    if (!isAllowedTeamNavigation(event.url, origin)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/**
 * Opens a window on the team server and waits for its first page. A page that does not load (no
 * server, a certificate this computer does not trust, a redirect off the origin) closes the window
 * and comes back as a message.
 */
export async function openTeamWindow(team: TeamUrl): Promise<TeamOpenResult> {
  prepareTeamSession();
  const window = new BrowserWindow(createTeamWindowOptions(team.origin));
  teamWindows.add(window);
  lockToOrigin(window.webContents, team.origin);
  let failure: string | null = null;
  const onFail = (
    _event: unknown,
    code: number,
    description: string,
    validatedUrl: string,
    isMainFrame: boolean,
  ) => {
    // -3 (ERR_ABORTED) is a navigation replaced by another, such as the redirect to /login.
    if (isMainFrame && code !== -3 && failure === null) {
      failure = teamLoadFailureMessage(validatedUrl || team.url, code, description);
    }
  };
  window.webContents.on('did-fail-load', onFail);
  window.once('ready-to-show', () => {
    if (!window.isDestroyed()) window.show();
  });
  try {
    await window.loadURL(team.url);
  } catch (error) {
    // A load replaced by the page's own next navigation (ERR_ABORTED, -3) is not a failure.
    const errno = (error as { errno?: unknown }).errno;
    if (errno !== -3) {
      failure ??= teamLoadFailureMessage(
        team.url,
        typeof errno === 'number' ? errno : 0,
        error instanceof Error ? error.message : String(error),
      );
    }
  } finally {
    if (!window.isDestroyed()) window.webContents.off('did-fail-load', onFail);
  }
  if (failure !== null) {
    if (!window.isDestroyed()) window.destroy();
    return { ok: false, message: failure };
  }
  return { ok: true, url: team.url };
}

/** Checks the address, opens its window and, once it opened, puts it first in the recent list. */
export async function openTeamProject(input: string, recentFile: string): Promise<TeamOpenResult> {
  const parsed = parseTeamUrl(input);
  if (!parsed.ok) return parsed;
  const result = await openTeamWindow(parsed);
  if (result.ok) {
    try {
      rememberTeamUrl(recentFile, parsed.url);
    } catch (error) {
      console.warn(`Recent team URLs not saved: ${String(error)}`);
    }
  }
  return result;
}

/** `--team-url` on the command line: its window, or a message box saying why not. */
export async function openTeamProjectFromLaunch(
  input: string,
  recentFile: string,
): Promise<boolean> {
  const result = await openTeamProject(input, recentFile);
  if (!result.ok) dialog.showErrorBox('QaTa Seg Workstation: --team-url', result.message);
  return result.ok;
}

/**
 * "Open team project…" from the app's own page (the preload's `teamProjects`): answered only for
 * that page, with its input checked by the shared schema.
 */
export function registerTeamProjectIpc(appUrl: string, recentFile: string): void {
  ipcMain.handle(IPC_TEAM_OPEN, async (event, input: unknown): Promise<TeamOpenResult> => {
    if (!isTrustedSender(event.senderFrame?.url, appUrl)) {
      return { ok: false, message: 'untrusted sender' };
    }
    const text = teamOpenInputSchema.safeParse(input);
    if (!text.success) return { ok: false, message: 'The address must be text' };
    return openTeamProject(text.data, recentFile);
  });
  ipcMain.handle(IPC_TEAM_RECENT, (event): string[] =>
    isTrustedSender(event.senderFrame?.url, appUrl) ? readRecentTeamUrls(recentFile) : [],
  );
}
