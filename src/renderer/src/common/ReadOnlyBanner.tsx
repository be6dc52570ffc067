/** Says that the open project is read-only, why, and what still works. */
import { useAppStore } from '../store';

export function ReadOnlyBanner() {
  const reason = useAppStore((state) => state.project?.readOnly ?? null);
  if (!reason) return null;
  return (
    <div className="read-only-banner" role="status" data-testid="read-only-banner">
      <b>Read-only project</b> ({reason}): nothing is saved. Browse, compare and export; editing,
      review states, comments, training, prediction and imports are off.
    </div>
  );
}
