/**
 * Admin > Users: the team's users; add one (their one-time password and token are shown here
 * once), disable one (their sessions end at once), reset one (new password and token).
 */
import { useCallback, useEffect, useState } from 'react';
import type { TeamUserInfo, UserSecrets } from '../../../shared/contract-team-auth';
import { roleSchema, type Role } from '../../../shared/team-schemas';
import { api } from '../api';

export function UsersView() {
  const [users, setUsers] = useState<TeamUserInfo[]>([]);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('reader');
  const [secrets, setSecrets] = useState<UserSecrets | null>(null);
  const [error, setError] = useState<string | null>(null);

  const refresh = useCallback(() => {
    api['users.list']().then(setUsers, (e: unknown) => setError(String((e as Error).message)));
  }, []);
  useEffect(refresh, [refresh]);

  const run = (work: Promise<unknown>) => {
    setError(null);
    work.then(refresh, (e: unknown) => setError((e as Error).message));
  };

  return (
    <section data-testid="admin-users">
      <form
        className="admin-add"
        onSubmit={(event) => {
          event.preventDefault();
          run(
            api['users.add']({ name, role }).then((result) => {
              setSecrets(result);
              setName('');
            }),
          );
        }}
      >
        <label>
          Name{' '}
          <input
            data-testid="user-name"
            value={name}
            required
            onChange={(event) => setName(event.target.value)}
          />
        </label>
        <label>
          Role{' '}
          <select
            data-testid="user-role"
            value={role}
            onChange={(event) => setRole(roleSchema.parse(event.target.value))}
          >
            {roleSchema.options.map((option) => (
              <option key={option}>{option}</option>
            ))}
          </select>
        </label>
        <button type="submit" data-testid="user-add">
          Add user
        </button>
      </form>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {secrets && (
        <div className="user-secrets" data-testid="user-secrets">
          <p>
            Give these to <b>{secrets.user.name}</b> now: they are not shown again.
          </p>
          <dl>
            <dt>One-time password</dt>
            <dd>
              <code data-testid="user-password">{secrets.password}</code>
            </dd>
            <dt>Personal token (scripts)</dt>
            <dd>
              <code data-testid="user-token">{secrets.token}</code>
            </dd>
          </dl>
          <button type="button" onClick={() => setSecrets(null)}>
            Done
          </button>
        </div>
      )}
      <table className="admin-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Role</th>
            <th>State</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {users.map((user) => (
            <tr key={user.id} data-testid={`user-row-${user.name}`}>
              <td>{user.name}</td>
              <td>{user.role}</td>
              <td>{user.disabledAt ? 'disabled' : 'enabled'}</td>
              <td>
                <button
                  type="button"
                  data-testid={`user-disable-${user.name}`}
                  disabled={user.disabledAt !== null}
                  onClick={() => run(api['users.disable']({ name: user.name }))}
                >
                  Disable
                </button>{' '}
                <button
                  type="button"
                  data-testid={`user-reset-${user.name}`}
                  onClick={() => run(api['users.reset']({ name: user.name }).then(setSecrets))}
                >
                  Reset
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
