/**
 * Messages for the user that belong to no one panel: a request that failed, an action that could
 * not run and why. Errors stay until dismissed; information clears itself after a few seconds.
 */
import { create } from 'zustand';

export interface Notice {
  id: number;
  text: string;
  kind: 'error' | 'info';
  /** Notices with the same key replace each other (one line per subject, not a pile). */
  key?: string;
}

interface NoticesState {
  notices: Notice[];
  dismiss: (id: number) => void;
}

export const INFO_NOTICE_MS = 5000;

export const useNotices = create<NoticesState>((set) => ({
  notices: [],
  dismiss: (id) => set((state) => ({ notices: state.notices.filter((n) => n.id !== id) })),
}));

let nextId = 1;

/** Shows a message; returns its id (for `dismissNotice`). */
export function notify(
  text: string,
  options: { kind?: Notice['kind']; key?: string } = {},
): number {
  const notice: Notice = { id: nextId++, text, kind: options.kind ?? 'error', key: options.key };
  useNotices.setState((state) => ({
    notices: [
      ...state.notices.filter((n) => notice.key === undefined || n.key !== notice.key),
      notice,
    ].slice(-5),
  }));
  if (notice.kind === 'info') {
    setTimeout(() => useNotices.getState().dismiss(notice.id), INFO_NOTICE_MS);
  }
  return notice.id;
}

export function dismissNotice(id: number): void {
  useNotices.getState().dismiss(id);
}

/** Message of anything a promise rejected with. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
