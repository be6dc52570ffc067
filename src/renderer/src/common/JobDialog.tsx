/**
 * A modal form around a long job (import, export): opens and closes with `open`, cannot be
 * dismissed with Escape while the job runs, and submits with Enter unless the job is running.
 */
import { useEffect, useRef, type ReactNode } from 'react';

export function JobDialog({
  open,
  onClose,
  busy,
  onSubmit,
  testId,
  children,
}: {
  open: boolean;
  onClose: () => void;
  /** While true, Escape does not close the dialog and submitting does nothing. */
  busy: boolean;
  onSubmit: () => void;
  testId: string;
  children: ReactNode;
}) {
  const dialogRef = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    const dialog = dialogRef.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);

  return (
    <dialog
      ref={dialogRef}
      className="modal"
      data-testid={testId}
      onClose={onClose}
      onCancel={(event) => {
        if (busy) event.preventDefault();
      }}
    >
      <form
        method="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          if (!busy) onSubmit();
        }}
      >
        {children}
      </form>
    </dialog>
  );
}
