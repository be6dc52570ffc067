/**
 * Buttons and checkboxes of registered editor actions: label, tooltip (what it does, its key, and
 * why it is disabled when it is), on/off state and click all come from the registry.
 */
import type { ReactNode } from 'react';
import { useReviewStore } from '../review/review-store';
import { formatChord } from './chords';
import { actionById, disabledReason, type EditorAction } from './registry';
import { runAction } from './run';

/** The tooltip of an action: its description, its first key, and the reason it is disabled. */
export function actionTitle(action: EditorAction, reason: string | null): string {
  const key = action.keys.length > 0 ? ` (${formatChord(action.keys[0])})` : '';
  return `${action.description}${key}${reason ? ` — ${reason}` : ''}`;
}

/** Whether an action can run now (null) or why not, and whether it shows as on. */
export function useActionState(id: string): {
  action: EditorAction;
  reason: string | null;
  active: boolean;
} {
  const action = actionById(id);
  const reason = useReviewStore((state) => disabledReason(action, state));
  const active = useReviewStore((state) => action.active?.(state) ?? false);
  return { action, reason, active };
}

export function ActionButton({
  id,
  className,
  role,
  children,
}: {
  id: string;
  className?: string;
  /** 'radio' for one-of-many groups (tools, review states). */
  role?: 'radio';
  children?: ReactNode;
}) {
  const { action, reason, active } = useActionState(id);
  return (
    // A disabled button shows no tooltip in most browsers: the wrapper carries it too.
    <span className="action-slot" title={actionTitle(action, reason)}>
      <button
        type="button"
        className={[className, active ? 'active' : ''].filter(Boolean).join(' ')}
        data-testid={action.testId ?? `action-${action.id}`}
        data-action={action.id}
        data-disabled-reason={reason ?? undefined}
        title={actionTitle(action, reason)}
        disabled={reason !== null}
        role={role}
        aria-checked={role === 'radio' ? active : undefined}
        aria-pressed={role === undefined && action.active ? active : undefined}
        onClick={() => runAction(action.id)}
      >
        {children ?? action.label}
      </button>
    </span>
  );
}

/** A checkbox that runs an on/off action (diff mode, invert, a layer's visibility). */
export function ActionCheckbox({ id, children }: { id: string; children?: ReactNode }) {
  const { action, reason, active } = useActionState(id);
  return (
    <label title={actionTitle(action, reason)}>
      <input
        type="checkbox"
        checked={active}
        disabled={reason !== null}
        data-testid={action.testId ?? `action-${action.id}`}
        data-action={action.id}
        onChange={() => runAction(action.id)}
      />
      {children ?? action.label}
    </label>
  );
}
