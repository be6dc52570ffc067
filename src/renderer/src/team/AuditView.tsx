/** Admin > Audit: who saved, reviewed, promoted, exported or changed users, and when. */
import { useEffect, useState } from 'react';
import type { AuditEntry } from '../../../shared/contract-team-auth';
import { api } from '../api';

export function AuditView() {
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [user, setUser] = useState('');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api['audit.list']({ user: user.trim() || undefined, limit: 500 }).then(
      (list) => {
        setEntries(list);
        setError(null);
      },
      (e: unknown) => setError((e as Error).message),
    );
  }, [user]);

  return (
    <section data-testid="admin-audit">
      <label>
        User{' '}
        <input
          data-testid="audit-user"
          value={user}
          placeholder="everyone"
          onChange={(event) => setUser(event.target.value)}
        />
      </label>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <table className="admin-table">
        <thead>
          <tr>
            <th>When</th>
            <th>Who</th>
            <th>What</th>
            <th>Image</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <tr key={entry.id} data-testid="audit-row">
              <td>{entry.at.slice(0, 19).replace('T', ' ')}</td>
              <td>{entry.userName}</td>
              <td title={entry.detail === null ? undefined : JSON.stringify(entry.detail)}>
                {entry.action}
              </td>
              <td>{entry.imageId ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
