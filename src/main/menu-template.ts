/**
 * The application menu's template from the shared layout and the action state the renderer sent.
 * Registry actions never register their accelerators with the OS on Windows and Linux (the keys
 * reach the page, whose handler knows about text fields and the focused control); the menu shows
 * them and a click runs the action by id. macOS always registers a menu's key equivalents, so
 * there only chords with a modifier are shown (a bare "A" would be taken from the comment box).
 * Pure: no Electron import beyond types, so it is tested under Node.
 */
import type { MenuItemConstructorOptions } from 'electron';
import { APP_MENU_LAYOUT, type AppMenuState } from '../shared/app-menu';

const MODIFIER = /(^|\+)(CmdOrCtrl|Alt)\+/;

export function appMenuTemplate(
  state: AppMenuState,
  onAction: (id: string) => void,
  platform: NodeJS.Platform = process.platform,
): MenuItemConstructorOptions[] {
  const byId = new Map(state.map((item) => [item.id, item]));
  return APP_MENU_LAYOUT.map((menu) => ({
    label: menu.label,
    submenu: menu.entries.flatMap((entry): MenuItemConstructorOptions[] => {
      if (entry === '-') return [{ type: 'separator' }];
      if (typeof entry !== 'string') return [{ role: entry.role }];
      const item = byId.get(entry);
      // Until the page has said what an action is called and whether it can run, it is not shown.
      if (!item) return [];
      const accelerator =
        item.accelerator && (platform !== 'darwin' || MODIFIER.test(item.accelerator))
          ? item.accelerator
          : null;
      return [
        {
          id: item.id,
          label: item.label,
          type: item.checked === null ? 'normal' : 'checkbox',
          ...(item.checked === null ? {} : { checked: item.checked }),
          enabled: item.enabled,
          ...(accelerator ? { accelerator } : {}),
          registerAccelerator: false,
          click: () => onAction(item.id),
        },
      ];
    }),
  }));
}

/** Registry actions that act on the app, not on the page's image: they run from any window. */
export const APP_WIDE_ACTIONS: ReadonlySet<string> = new Set(['project.openTeam']);

/**
 * Where a menu click goes. The menu bar belongs to the app's own page; while a team window (a
 * team server's page, which has no menu state of its own) is focused, an editing action would act
 * unseen in the other window, so it is dropped, and an app-wide one brings the app's page forward.
 */
export function menuActionRoute(
  id: string,
  teamWindowFocused: boolean,
): 'run' | 'focus-and-run' | 'ignore' {
  if (!teamWindowFocused) return 'run';
  return APP_WIDE_ACTIONS.has(id) ? 'focus-and-run' : 'ignore';
}
