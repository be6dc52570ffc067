/**
 * The desktop menu bar is built from the registry's action state: every menu of the shared layout,
 * registry actions with their label, keys, enabled and checked state, a click that names the action,
 * and accelerators that never take a key from the page (Windows/Linux) or a bare letter (macOS).
 */
import { describe, expect, it } from 'vitest';
import { appMenuTemplate, menuActionRoute } from '../../src/main/menu-template';

type MenuItemConstructorOptions = ReturnType<typeof appMenuTemplate>[number];
import { APP_MENU_LAYOUT, appMenuStateSchema, type AppMenuState } from '../../src/shared/app-menu';

const state: AppMenuState = [
  { id: 'edit.undo', label: 'Undo', accelerator: 'CmdOrCtrl+Z', enabled: true, checked: null },
  {
    id: 'edit.redo',
    label: 'Redo',
    accelerator: 'CmdOrCtrl+Shift+Z',
    enabled: false,
    checked: null,
  },
  { id: 'review.flagged', label: 'Flagged', accelerator: 'X', enabled: true, checked: true },
  { id: 'help', label: 'Shortcuts', accelerator: '?', enabled: true, checked: null },
];

function items(template: MenuItemConstructorOptions[], menu: string): MenuItemConstructorOptions[] {
  const found = template.find((entry) => entry.label === menu);
  return (found?.submenu ?? []) as MenuItemConstructorOptions[];
}

describe('the application menu from the action registry', () => {
  it('has every menu of the layout and the actions the page described, wired to their ids', () => {
    const clicked: string[] = [];
    const template = appMenuTemplate(state, (id) => clicked.push(id), 'linux');
    expect(template.map((menu) => menu.label)).toEqual(APP_MENU_LAYOUT.map((menu) => menu.label));
    const edit = items(template, 'Edit');
    const undo = edit.find((item) => item.id === 'edit.undo')!;
    expect(undo).toMatchObject({ label: 'Undo', accelerator: 'CmdOrCtrl+Z', enabled: true });
    // The page's own key handler gets Ctrl+Z (it knows about the comment box): not the OS menu.
    expect(undo.registerAccelerator).toBe(false);
    expect(edit.find((item) => item.id === 'edit.redo')!.enabled).toBe(false);
    expect(edit.some((item) => item.role === 'copy')).toBe(true);
    const flagged = items(template, 'Review').find((item) => item.id === 'review.flagged')!;
    expect(flagged).toMatchObject({ type: 'checkbox', checked: true, accelerator: 'X' });
    (undo.click as () => void)();
    (flagged.click as () => void)();
    expect(clicked).toEqual(['edit.undo', 'review.flagged']);
    // Actions the page has not described yet are not shown.
    expect(edit.some((item) => item.id === 'edit.clear')).toBe(false);
  });

  it('on macOS shows only chords with a modifier, so a bare letter never leaves the comment box', () => {
    const template = appMenuTemplate(state, () => undefined, 'darwin');
    const review = items(template, 'Review').find((item) => item.id === 'review.flagged')!;
    expect(review.accelerator).toBeUndefined();
    const undo = items(template, 'Edit').find((item) => item.id === 'edit.undo')!;
    expect(undo.accelerator).toBe('CmdOrCtrl+Z');
  });

  it('refuses a state that is not the schema (main validates what the page sends)', () => {
    expect(appMenuStateSchema.safeParse([{ id: 'edit.undo' }]).success).toBe(false);
    expect(appMenuStateSchema.safeParse('x').success).toBe(false);
    expect(appMenuStateSchema.safeParse(state).success).toBe(true);
  });

  it('drops an editing click while a team window is focused; opening a team project still runs', () => {
    expect(menuActionRoute('edit.undo', false)).toBe('run');
    expect(menuActionRoute('project.openTeam', false)).toBe('run');
    expect(menuActionRoute('edit.undo', true)).toBe('ignore');
    expect(menuActionRoute('review.flagged', true)).toBe('ignore');
    expect(menuActionRoute('project.openTeam', true)).toBe('focus-and-run');
    // The File menu has it, first.
    const file = APP_MENU_LAYOUT.find((menu) => menu.label === 'File')!;
    expect(file.entries[0]).toBe('project.openTeam');
  });
});
