/**
 * "Open team project…" (desktop app only): whether its dialog is open, and the preload's bridge
 * that asks the main process to open a team server's window. The registry's `project.openTeam`
 * action, its menu entry and the dialog all use this.
 */
import { create } from 'zustand';
import type { TeamProjectsBridge } from '../../../shared/team-open';

export const useOpenTeamProject = create<{ open: boolean; setOpen: (open: boolean) => void }>(
  (set) => ({
    open: false,
    setOpen: (open) => set({ open }),
  }),
);

/** The preload's bridge, or null in browser mode (and in Node, where the registry is read too). */
export function teamProjectsBridge(): TeamProjectsBridge | null {
  return typeof window === 'undefined' ? null : (window.api?.teamProjects ?? null);
}

export const OPEN_TEAM_DESKTOP_ONLY =
  'Only in the desktop app: in a browser, go to the team server’s address instead';
