/** Says when the page cannot reach its server, and what happens to unsaved edits meanwhile. */
import { useConnection } from '../connection';
import { useTeam } from '../team/team-store';

export function ConnectionBanner() {
  const state = useConnection((s) => s.state);
  // A signed-in team member who is refused has been signed out: the team bar says so.
  const teamMember = useTeam((s) => s.user !== null);
  if (state !== 'lost' && state !== 'refused') return null;
  if (state === 'refused' && teamMember) return null;
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
