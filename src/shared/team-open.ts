/**
 * The desktop app's "Open team project…": what the page sends the main process (the address the
 * user typed) and what comes back (the window opened, or why not), and the recent team URLs. Only
 * the preload of the app's own page offers it; a team server's page gets no preload at all.
 */
import { z } from 'zod';

/** What the page sends: the address as typed; main checks and normalises it. */
export const teamOpenInputSchema = z.string().max(4096);

export const teamOpenResultSchema = z.discriminatedUnion('ok', [
  /** A window shows the team server's sign-in page; `url` is the address it loaded. */
  z.object({ ok: z.literal(true), url: z.string() }),
  /** Nothing opened: an address that is refused, or a server that did not answer (in words). */
  z.object({ ok: z.literal(false), message: z.string() }),
]);
export type TeamOpenResult = z.infer<typeof teamOpenResultSchema>;

/** The recent team URLs, newest first. */
export const recentTeamUrlsSchema = z.array(z.string().max(2048)).max(20);

/** What the preload adds to `window.api` in the desktop app (absent in browser mode). */
export interface TeamProjectsBridge {
  open(url: string): Promise<TeamOpenResult>;
  recent(): Promise<string[]>;
}
