/** The review workstation: worklist, viewer and side panels, with the one global key handler. */
import { useEffect } from 'react';
import { ActionButton } from '../editor/ActionButton';
import { startAppMenuSync } from '../editor/app-menu';
import { actionForKey } from '../editor/registry';
import { runAction } from '../editor/run';
import { review } from './controller';
import { FiguresPanel, HelpOverlay, LayersPanel, ReviewPanel, ToolsPanel } from './Panels';
import { onReconnected } from '../connection';
import { useReviewStore } from './review-store';
import { followImageChanges } from './sync';
import { Viewer } from './Viewer';
import { Worklist } from './Worklist';
import './review.css';

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

export function ReviewScreen() {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      // An open dialog (import, export) has every key, Escape included, even when the focus has
      // left it for the page (the button that had it went away): the screen behind is inert.
      if (event.target instanceof Element && event.target.closest('dialog')) return;
      if (document.querySelector('dialog[open]')) return;
      const action = actionForKey(event);
      if (!action || (event.repeat && !action.repeats)) return;
      if (swallows(event.target, event.key)) {
        if (!action.leavesTextFields) return;
        (event.target as HTMLElement).blur();
      }
      event.preventDefault();
      runAction(action.id);
    };
    window.addEventListener('keydown', onKey);
    // Closing the window mid-save would lose the edit in flight: ask first.
    const onBeforeUnload = (event: BeforeUnloadEvent) => {
      if (review.savesPending) event.preventDefault();
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    const off = followImageChanges();
    // The desktop menu bar shows the registry's actions and runs them on click.
    const offMenu = startAppMenuSync();
    // Back after a lost connection: what changed meanwhile was not heard. Kept saves go first.
    const offReconnected = onReconnected(() => {
      review.retrySavesNow();
      useReviewStore.getState().setQuery({});
      void review.refreshOpen();
    });
    return () => {
      window.removeEventListener('keydown', onKey);
      window.removeEventListener('beforeunload', onBeforeUnload);
      off();
      offMenu();
      offReconnected();
    };
  }, []);

  return (
    <div className="review-screen" data-testid="review-screen">
      <Worklist />
      <Viewer />
      <aside className="review-side">
        <ReviewPanel />
        <FiguresPanel />
        <LayersPanel />
        <ToolsPanel />
        <p className="muted small">
          <ActionButton id="help">
            Shortcuts <kbd>?</kbd>
          </ActionButton>{' '}
          <ActionButton id="team.plans">
            Reading plans <kbd>Shift+R</kbd>
          </ActionButton>
        </p>
      </aside>
      <HelpOverlay />
    </div>
  );
}
