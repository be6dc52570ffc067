/**
 * End-to-end helpers that read the editor's action registry, so a spec presses an action's own key
 * or clicks its own button by action id, and never keeps a copy of the keymap.
 */
import type { Locator, Page } from '@playwright/test';
import { pressableChord } from '../../src/renderer/src/editor/chords';
import { actionById } from '../../src/renderer/src/editor/registry';

/** Presses the first key the registry binds to `id`. */
export async function pressAction(page: Page, id: string): Promise<void> {
  const [key] = actionById(id).keys;
  if (!key) throw new Error(`${id} has no key`);
  await page.keyboard.press(pressableChord(key));
}

/** The button (or checkbox) of an action. */
export function actionControl(page: Page, id: string): Locator {
  return page.locator(`[data-action="${actionById(id).id}"]`);
}
