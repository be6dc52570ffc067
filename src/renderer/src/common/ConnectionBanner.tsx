/** Says when the page cannot reach its server, and what happens to unsaved edits meanwhile. */
import { useConnection } from '../connection';

export function ConnectionBanner() {
  const state = useConnection((s) => s.state);
  if (state !== 'lost' && state !== 'refused') return null;
  return (
    <div className="connection-banner" role="alert" data-testid="connection-banner">
      {state === 'lost' ? (
        <>
          <b>The workstation server cannot be reached</b> (stopped or restarting): reconnecting by
          itself. Edits not saved yet are kept in this page and saved when it is back; keep the page
          open.
        </>
      ) : (
        <>
          <b>The server no longer accepts this page's token</b> (it restarted with a new one): open
          the URL it printed. Edits not saved yet stay in this page until then; keep it open.
        </>
      )}
    </div>
  );
}
