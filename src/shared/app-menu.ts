/**
 * The desktop app's menu bar, from the editor's action registry. The layout (which action sits in
 * which menu) is plain data here, so the Electron main process can build the bar without importing
 * the renderer; the renderer fills in each action's label, keys and whether it can run now from the
 * registry and sends that state over IPC; a click comes back as the action's id and runs through
 * the same `runAction` as its key and its button.
 */
import { z } from 'zod';

/** Electron's own menu roles used beside the registry's actions (text editing, window, app). */
export const appMenuRoleSchema = z.enum([
  'cut',
  'copy',
  'paste',
  'selectAll',
  'reload',
  'toggleDevTools',
  'togglefullscreen',
  'minimize',
  'close',
  'quit',
]);
export type AppMenuRole = z.infer<typeof appMenuRoleSchema>;

/** An entry of a menu: a registry action by id, one of Electron's roles, or '-' (a separator). */
export type AppMenuEntry = string | { role: AppMenuRole };

export interface AppMenuLayout {
  label: string;
  entries: readonly AppMenuEntry[];
}

export const APP_MENU_LAYOUT: readonly AppMenuLayout[] = [
  {
    label: 'File',
    entries: ['project.openTeam', 'project.pacs', '-', { role: 'close' }, '-', { role: 'quit' }],
  },
  {
    label: 'Edit',
    entries: [
      'edit.undo',
      'edit.redo',
      '-',
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'selectAll' },
      '-',
      'edit.acceptPrediction',
      'edit.thresholdInto',
      'edit.fillHoles',
      'edit.removeIslands',
      'edit.dilate',
      'edit.erode',
      'edit.clear',
    ],
  },
  {
    label: 'Review',
    entries: [
      'review.unreviewed',
      'review.accepted',
      'review.corrected',
      'review.flagged',
      'review.negative',
      '-',
      'review.comment',
      '-',
      'nav.next',
      'nav.previous',
      'nav.nextUnreviewed',
      'nav.previousUnreviewed',
      '-',
      'team.plans',
    ],
  },
  {
    label: 'View',
    entries: [
      'view.fit',
      'view.actualSize',
      'view.zoomIn',
      'view.zoomOut',
      '-',
      'view.invert',
      'view.resetWindow',
      'view.diff',
      'view.outline',
      '-',
      'team.panel',
      '-',
      { role: 'togglefullscreen' },
      { role: 'reload' },
      { role: 'toggleDevTools' },
    ],
  },
  {
    // The adjudicator's panel (its keys work while the focus is in it; a click works anywhere).
    label: 'Adjudication',
    entries: [
      'adjudication.next',
      'adjudication.previous',
      '-',
      'adjudication.outline',
      'adjudication.map',
      '-',
      'adjudication.fromConsensus',
      'adjudication.brush',
      'adjudication.eraser',
      '-',
      'adjudication.decide',
    ],
  },
  { label: 'Window', entries: [{ role: 'minimize' }] },
  { label: 'Help', entries: ['help'] },
];

/** The ids of every registry action the menu bar shows. */
export function appMenuActionIds(): string[] {
  return APP_MENU_LAYOUT.flatMap((menu) =>
    menu.entries.filter((entry): entry is string => typeof entry === 'string' && entry !== '-'),
  );
}

/** One action's state in the menu: what the renderer sends whenever it changes. */
export const appMenuItemSchema = z.object({
  id: z.string().max(64),
  label: z.string().max(120),
  /** Electron accelerator text (e.g. `CmdOrCtrl+Shift+Z`), or null for actions without keys. */
  accelerator: z.string().max(40).nullable(),
  enabled: z.boolean(),
  /** For actions that show as on or off (a review state, a view toggle); null otherwise. */
  checked: z.boolean().nullable(),
});
export type AppMenuItem = z.infer<typeof appMenuItemSchema>;

export const appMenuStateSchema = z.array(appMenuItemSchema).max(200);
export type AppMenuState = z.infer<typeof appMenuStateSchema>;

/** What the preload adds to `window.api` in the desktop app (absent in browser mode). */
export interface AppMenuBridge {
  set(state: AppMenuState): void;
  onAction(listener: (id: string) => void): () => void;
}
