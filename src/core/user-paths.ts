/**
 * Paths that users type reach core through the contract from a window or browser that has no
 * working folder of its own: the server's working folder means nothing to them. A relative path
 * is relative to the project folder; `~` and `~/…` are the home folder of the user running core.
 * (The CLI resolves its arguments against the shell's working folder before they get here.)
 */
import os from 'node:os';
import path from 'node:path';

export function resolveUserPath(typed: string, projectDir: string): string {
  if (typed === '~') return os.homedir();
  if (typed.startsWith('~/') || (path.sep === '\\' && typed.startsWith('~\\'))) {
    return path.join(os.homedir(), typed.slice(2));
  }
  return path.resolve(projectDir, typed);
}
