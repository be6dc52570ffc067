/**
 * Who is signed in to `serve --team` (null: the project's owner, as in the desktop app and plain
 * browser mode), and whether this page has been signed out: by its own sign-out, by an admin
 * disabling or resetting the user (the host's `team.sessionsEnded` event and the closed event
 * socket), or by any request answered 401.
 */
import { create } from 'zustand';
import type { Role } from '../../../shared/team-schemas';
import { api, onUnauthorized } from '../api';
import { TOKEN_HEADER } from '../../../shared/channels';
import { useConnection } from '../connection';

export interface SignedInUser {
  id: number;
  name: string;
  role: Role;
}

interface TeamState {
  user: SignedInUser | null;
  signedOut: boolean;
}

export const useTeam = create<TeamState>(() => ({ user: null, signedOut: false }));

/** Asks the host who this page is and watches for the end of the session; returns the unsubscribe. */
export function watchTeamSession(): () => void {
  // A host that cannot say (an older host, a dropped request) leaves the page as the owner's.
  api['auth.me']()
    .then(({ user }) => useTeam.setState({ user }))
    .catch(() => undefined);
  const offEvent = api.on('team.sessionsEnded', ({ userId }) => {
    if (useTeam.getState().user?.id === userId) useTeam.setState({ signedOut: true });
  });
  const offRefused = onUnauthorized(() => {
    if (useTeam.getState().user) useTeam.setState({ signedOut: true });
  });
  // The event socket closed and the host refuses this page: the session has ended.
  const offConnection = useConnection.subscribe(({ state }) => {
    if (state === 'refused' && useTeam.getState().user) useTeam.setState({ signedOut: true });
  });
  return () => {
    offEvent();
    offRefused();
    offConnection();
  };
}

/** Ends this browser's session on the host and goes to the sign-in page. */
export async function signOut(): Promise<void> {
  await fetch('/logout', { method: 'POST', headers: { [TOKEN_HEADER]: '' } }).catch(
    () => undefined,
  );
  useTeam.setState({ signedOut: true });
  window.location.assign('/login');
}
