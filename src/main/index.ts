/**
 * Electron bootstrap, and nothing more: the window and its security policy, the media protocol,
 * the IPC binding of the contract, and the ML worker as a utilityProcess. The application itself
 * is `core`, shared with the CLI and browser mode. `--team-url` (and "Open team project…") opens a
 * team server's pages in a window of their own instead (team-window.ts): no core, no IPC there.
 */
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  protocol,
  session,
  shell,
  utilityProcess,
} from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiError, mediaKindSchema, type ApiErrorBody } from '../shared/contract';
import {
  IPC_EVENT,
  IPC_INVOKE,
  IPC_MENU_ACTION,
  IPC_MENU_STATE,
  MEDIA_SCHEME,
} from '../shared/channels';
import { appMenuStateSchema } from '../shared/app-menu';
import { appMenuTemplate, menuActionRoute } from './menu-template';
import { createService, type Service } from '../core/service';
import type { WorkerChannel, WorkerLauncher } from '../core/ml/worker-host';
import { defaultProjectDir, ensureDemoProject } from '../core/default-project';
import { prepareDemoModel } from '../core/demo-model';
import {
  CONTENT_SECURITY_POLICY,
  createWindowOptions,
  isAllowedNavigation,
  isTrustedSender,
} from './window-options';
import { packagedSqliteBinding } from './native-binding';
import { appSecretStore } from './secret-store';
import { launchRequest, RECENT_TEAM_URLS_FILE } from './team-url';
import { isTeamWindow, openTeamProjectFromLaunch, registerTeamProjectIpc } from './team-window';

/** out/main, where the bundle runs (ESM has no __dirname). */
const here = path.dirname(fileURLToPath(import.meta.url));

// A packaged app's better-sqlite3 for Electron (npm start passes its own); the ML worker inherits it.
if (app.isPackaged) process.env.QATASEG_SQLITE_BINDING ??= packagedSqliteBinding(here);

protocol.registerSchemesAsPrivileged([
  { scheme: MEDIA_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

function utilityWorkerLauncher(): WorkerLauncher {
  return (): WorkerChannel => {
    const child = utilityProcess.fork(path.join(here, 'worker.js'), [], {
      serviceName: 'QaTa Seg ML worker',
      stdio: 'inherit',
    });
    return {
      send: (message) => child.postMessage(message),
      onMessage: (listener) => child.on('message', listener),
      onExit: (listener) => child.on('exit', (code) => listener(code, null)),
      kill: () => {
        child.kill();
      },
    };
  };
}

function errorBody(error: unknown): ApiErrorBody {
  if (error instanceof ApiError) return { code: error.code, message: error.message };
  return { code: 'internal', message: error instanceof Error ? error.message : String(error) };
}

let service: Service | null = null;

/** The page the window shows: the dev server under `electron-vite dev`, else the built file. */
const appUrl =
  process.env.ELECTRON_RENDERER_URL ??
  new URL(`file://${path.join(here, '../renderer/index.html')}`).toString();

async function createWindow(activeService: Service): Promise<void> {
  const window = new BrowserWindow(createWindowOptions(path.join(here, '../preload/index.cjs')));

  window.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  window.webContents.on('will-navigate', (event, url) => {
    if (!isAllowedNavigation(url, appUrl)) event.preventDefault();
  });
  window.webContents.on('will-attach-webview', (event) => event.preventDefault());

  const unsubscribe = activeService.subscribe((name, payload) => {
    if (!window.isDestroyed()) window.webContents.send(IPC_EVENT, name, payload);
  });
  window.on('closed', unsubscribe);
  window.once('ready-to-show', () => window.show());
  await window.loadURL(appUrl);
}

/**
 * The menu bar is the action registry's (see shared/app-menu.ts): the app's page sends each
 * action's label, keys and state; until it has (or with only a team window), only the role
 * entries show. A click goes to the page that sent the state (menuActionRoute: not while a team
 * window is focused, except app-wide actions).
 */
function setAppMenu(state: unknown, sender?: Electron.WebContents): void {
  const parsed = appMenuStateSchema.safeParse(state);
  if (!parsed.success) return;
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      appMenuTemplate(parsed.data, (id) => {
        if (!sender || sender.isDestroyed()) return;
        const route = menuActionRoute(id, isTeamWindow(BrowserWindow.getFocusedWindow()));
        if (route === 'ignore') return;
        if (route === 'focus-and-run') BrowserWindow.fromWebContents(sender)?.focus();
        sender.send(IPC_MENU_ACTION, id);
      }),
    ),
  );
}

async function start(): Promise<void> {
  await app.whenReady();
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: {
        ...details.responseHeaders,
        'Content-Security-Policy': [CONTENT_SECURITY_POLICY],
      },
    });
  });
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) =>
    callback(false),
  );

  setAppMenu([]);
  const launch = launchRequest(process.argv);
  const recentTeamUrls = path.join(app.getPath('userData'), RECENT_TEAM_URLS_FILE);
  registerTeamProjectIpc(appUrl, recentTeamUrls);
  if (launch.openLocal) await startLocal(launch.projectDir);
  if (launch.teamUrl !== null) {
    const opened = await openTeamProjectFromLaunch(launch.teamUrl, recentTeamUrls);
    // Nothing else to show: a refused or unreachable address ends the app (after its message).
    if (!opened && !launch.openLocal) app.exit(2);
  }
}

/** The app's own page on a local project folder, with core in this process. */
async function startLocal(projectArg: string | null): Promise<void> {
  let projectDir = projectArg;
  const firstStart = !projectDir;
  if (!projectDir) {
    // First start: a generated demo project, so there is something to review right away.
    projectDir = await defaultProjectDir(app.getPath('userData'));
    await ensureDemoProject(projectDir);
  }
  const activeService = createService({
    transport: 'electron',
    electronVersion: process.versions.electron,
    projectDir,
    workerLauncher: utilityWorkerLauncher(),
    secretStore: appSecretStore,
    pickFolder: async () => {
      const result = await dialog.showOpenDialog({ properties: ['openDirectory'] });
      return result.canceled ? null : (result.filePaths[0] ?? null);
    },
  });
  service = activeService;
  // Start the ML worker now so the UI can show which backend the ladder chose.
  activeService.worker.ensureStarted().catch(() => undefined);
  // The demo project opens with predictions to review: a first model trains in the background.
  if (firstStart) {
    prepareDemoModel(activeService).catch((error: unknown) =>
      console.error(`Demo model not prepared: ${String(error)}`),
    );
  }

  ipcMain.handle(IPC_INVOKE, async (event, method: unknown, input: unknown) => {
    if (!isTrustedSender(event.senderFrame?.url, appUrl)) {
      return { ok: false, error: { code: 'unauthorized', message: 'untrusted sender' } };
    }
    if (typeof method !== 'string')
      return { ok: false, error: { code: 'bad-request', message: 'method must be a string' } };
    try {
      return { ok: true, value: await activeService.call(method, input) };
    } catch (error) {
      return { ok: false, error: errorBody(error) };
    }
  });

  protocol.handle(MEDIA_SCHEME, async (request) => {
    const url = new URL(request.url);
    const kind = mediaKindSchema.safeParse(url.hostname);
    const id = Number(url.pathname.replace(/^\//, ''));
    if (!kind.success || !Number.isInteger(id) || id <= 0)
      return new Response('bad media URL', { status: 400 });
    try {
      const media = await activeService.media(kind.data, id, url.searchParams);
      return new Response(new Uint8Array(media.body), {
        headers: { 'content-type': media.contentType },
      });
    } catch (error) {
      const body = errorBody(error);
      return new Response(body.message, { status: body.code === 'not-found' ? 404 : 500 });
    }
  });

  ipcMain.on(IPC_MENU_STATE, (event, state: unknown) => {
    if (!isTrustedSender(event.senderFrame?.url, appUrl)) return;
    setAppMenu(state, event.sender);
  });
  await createWindow(activeService);
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) void createWindow(activeService);
  });
}

app.on('window-all-closed', () => {
  service?.close();
  app.quit();
});

start().catch((error: unknown) => {
  dialog.showErrorBox(
    'QaTa Seg Workstation could not start',
    error instanceof Error ? error.message : String(error),
  );
  app.exit(1);
});
