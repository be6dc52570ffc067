/**
 * Who makes a request. Hosts say it when they call `Service.call`: the project's owner (the
 * desktop app on its folder, the CLI, browser mode with its token: anyone who can already open
 * project.sqlite) or a team member signed in to `qataseg serve --team`.
 */
import type { Role } from '../../shared/team-schemas';

export type Caller = { kind: 'owner' } | { kind: 'user'; userId: number; name: string; role: Role };

export const OWNER: Caller = Object.freeze({ kind: 'owner' });

/** The name recorded with what a caller does (audit, revision authors). */
export function callerName(caller: Caller): string {
  return caller.kind === 'owner' ? 'owner' : caller.name;
}
