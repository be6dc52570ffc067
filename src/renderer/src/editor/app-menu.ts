/**
 * Keeps the desktop app's menu bar in step with the action registry: each action's label, keys
 * (as Electron accelerators) and whether it can run now go to the main process whenever they
 * change; a menu click runs the action through `runAction`, as its key and its button do. In
 * browser mode there is no menu bar (`api.appMenu` is absent) and nothing runs.
 */
import { appMenuActionIds, type AppMenuState } from '../../../shared/app-menu';
import { useReviewStore } from '../review/review-store';
import { actionById, disabledReason, type EditorState } from './registry';
import { runAction } from './run';

const NAMED: Record<string, string> = {
  arrowdown: 'Down',
  arrowup: 'Up',
  arrowleft: 'Left',
  arrowright: 'Right',
  enter: 'Enter',
  escape: 'Esc',
  delete: 'Delete',
  space: 'Space',
  '+': 'Plus',
};

/** A registry chord as an Electron accelerator: `ctrl+shift+z` -> `CmdOrCtrl+Shift+Z`. */
export function acceleratorOf(chord: string): string {
  const parts =
    chord === '+'
      ? ['+']
      : chord.endsWith('++')
        ? [...chord.slice(0, -2).split('+'), '+']
        : chord.split('+');
  return parts
    .map((part, index) => {
      if (index < parts.length - 1) {
        if (part === 'ctrl') return 'CmdOrCtrl';
        return part[0].toUpperCase() + part.slice(1);
      }
      return (
        NAMED[part] ??
        (part.length === 1 ? part.toUpperCase() : part[0].toUpperCase() + part.slice(1))
      );
    })
    .join('+');
}

/** The menu bar's state of every action it shows, read from the registry for `state`. */
export function appMenuState(state: EditorState): AppMenuState {
  return appMenuActionIds().map((id) => {
    const action = actionById(id);
    const label = action.label[0].toUpperCase() + action.label.slice(1);
    return {
      id,
      label,
      accelerator: action.keys.length > 0 ? acceleratorOf(action.keys[0]) : null,
      enabled: disabledReason(action, state) === null,
      checked: action.active ? action.active(state) : null,
    };
  });
}

function inTextField(): boolean {
  const element = document.activeElement;
  return (
    element instanceof HTMLTextAreaElement ||
    (element instanceof HTMLInputElement && !['checkbox', 'radio', 'range'].includes(element.type))
  );
}

/** Runs a menu click. Undo and redo in a text field (macOS sends Cmd+Z here) edit the text. */
export function runMenuAction(id: string): void {
  if (inTextField() && (id === 'edit.undo' || id === 'edit.redo')) {
    document.execCommand(id === 'edit.undo' ? 'undo' : 'redo');
    return;
  }
  runAction(id);
}

/** Starts the sync; returns the function that stops it. */
export function startAppMenuSync(): () => void {
  // The preload's own object: the renderer's api wrappers carry the contract's methods only.
  const bridge = window.api?.appMenu;
  if (!bridge) return () => undefined;
  let sent = '';
  const send = () => {
    const state = appMenuState(useReviewStore.getState());
    const text = JSON.stringify(state);
    if (text === sent) return;
    sent = text;
    bridge.set(state);
  };
  send();
  const offStore = useReviewStore.subscribe(send);
  const offAction = bridge.onAction(runMenuAction);
  return () => {
    offStore();
    offAction();
  };
}
