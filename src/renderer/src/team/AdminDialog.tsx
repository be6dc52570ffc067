/** Admin > Users and Admin > Audit (serve --team): the team's users and the audit trail. */
import { useEffect, useRef, useState } from 'react';
import { UsersView } from './UsersView';
import { AuditView } from './AuditView';

export function AdminDialog({ onClose }: { onClose: () => void }) {
  const dialogRef = useRef<HTMLDialogElement>(null);
  const [tab, setTab] = useState<'users' | 'audit'>('users');
  useEffect(() => {
    const dialog = dialogRef.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  return (
    <dialog ref={dialogRef} className="modal admin-dialog" data-testid="admin" onClose={onClose}>
      <header className="admin-tabs" role="tablist">
        <h2>Admin</h2>
        <button
          type="button"
          role="tab"
          aria-selected={tab === 'users'}
          data-testid="admin-users-tab"
          onClick={() => setTab('users')}
        >
          Users
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={tab === 'audit'}
          data-testid="admin-audit-tab"
          onClick={() => setTab('audit')}
        >
          Audit
        </button>
        <span className="spacer" />
        <button type="button" data-testid="admin-close" onClick={() => dialogRef.current?.close()}>
          Close
        </button>
      </header>
      {tab === 'users' ? <UsersView /> : <AuditView />}
    </dialog>
  );
}
