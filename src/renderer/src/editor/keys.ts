/**
 * The one key handler of the page (the review screen installs it on the window): a key runs the
 * registry's action bound to it in the scope where the focus is: the adjudicator's panel
 * (`data-key-scope="adjudication"`) or the review screen.
 */
import { actionForKey, type KeyScope } from './registry';
import { runAction } from './run';

/**
 * Keys the focused element keeps: every key in text fields; Enter and space on a button (which
 * press it); the arrows of selects and sliders.
 */
function swallows(target: EventTarget | null, key: string): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target.tagName === 'TEXTAREA') return true;
  if (target.tagName === 'BUTTON') return key === 'Enter' || key === ' ';
  if (target instanceof HTMLInputElement) {
    if (['text', 'search', 'number'].includes(target.type)) return true;
    if (target.type === 'range') return key.startsWith('Arrow');
  }
  return target.tagName === 'SELECT' && key.startsWith('Arrow');
}

export function onEditorKey(event: KeyboardEvent): void {
  // An open dialog (import, export) has every key, Escape included, even when the focus has
  // left it for the page (the button that had it went away): the screen behind is inert.
  if (event.target instanceof Element && event.target.closest('dialog')) return;
  if (document.querySelector('dialog[open]')) return;
  // The adjudicator's panel has keys of its own (1..9 are readers there): its scope.
  const scope: KeyScope =
    event.target instanceof Element && event.target.closest('[data-key-scope="adjudication"]')
      ? 'adjudication'
      : 'review';
  const action = actionForKey(event, scope);
  if (!action || (event.repeat && !action.repeats)) return;
  if (swallows(event.target, event.key)) {
    if (!action.leavesTextFields) return;
    (event.target as HTMLElement).blur();
  }
  event.preventDefault();
  runAction(action.id);
}
