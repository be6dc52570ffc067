/** Whether the Team panel is open: its button, its key and its menu entry all set this. */
import { create } from 'zustand';

export const useTeamPanel = create<{ open: boolean; setOpen: (open: boolean) => void }>((set) => ({
  open: false,
  setOpen: (open) => set({ open }),
}));
