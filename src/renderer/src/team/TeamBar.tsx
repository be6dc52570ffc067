/**
 * The header's team part under `serve --team`: who is signed in, with what role, Admin (for
 * admins) and Sign out; and, once the session has ended, a banner saying so with the way back in.
 * Nothing for the project's owner (desktop app, plain browser mode).
 */
import { useEffect, useState } from 'react';
import { signOut, useTeam, watchTeamSession } from './team-store';
import { AdminDialog } from './AdminDialog';

export function TeamBar() {
  const { user, signedOut } = useTeam();
  const [adminShown, setAdminShown] = useState(false);
  useEffect(() => watchTeamSession(), []);
  if (!user) return null;
  return (
    <>
      <span className="team-user" data-testid="signed-in-as">
        signed in as <b>{user.name}</b> ({user.role})
      </span>
      {user.role === 'admin' && (
        <button type="button" data-testid="open-admin" onClick={() => setAdminShown(true)}>
          Admin…
        </button>
      )}
      <button type="button" data-testid="sign-out" onClick={() => void signOut()}>
        Sign out
      </button>
      {adminShown && <AdminDialog onClose={() => setAdminShown(false)} />}
      {signedOut && (
        <div className="signed-out" role="alert" data-testid="signed-out">
          <b>You are signed out</b> (your session ended: signed out, or your account was disabled or
          reset by an administrator). <a href="/login">Sign in again</a>
        </div>
      )}
    </>
  );
}
