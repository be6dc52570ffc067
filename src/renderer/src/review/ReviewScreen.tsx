/** The review workstation: worklist, viewer and side panels, with the one global key handler. */
import { useEffect } from 'react';
import { ActionButton } from '../editor/ActionButton';
import { startAppMenuSync } from '../editor/app-menu';
import { onEditorKey } from '../editor/keys';
import { review } from './controller';
import { FiguresPanel, HelpOverlay, LayersPanel, ReviewPanel, ToolsPanel } from './Panels';
import { onReconnected } from '../connection';
import { useReviewStore } from './review-store';
import { followImageChanges } from './sync';
import { Viewer } from './Viewer';
import { Worklist } from './Worklist';
import './review.css';

export function ReviewScreen() {
  useEffect(() => {
    window.addEventListener('keydown', onEditorKey);
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
      window.removeEventListener('keydown', onEditorKey);
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
