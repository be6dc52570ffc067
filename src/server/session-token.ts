/**
 * The browser-mode token of a project, kept in the project folder (`server.token`, readable by the
 * user only) so that a restart of `qataseg serve` on the same project does not strand open tabs,
 * and so that the CLI can call the server that holds the project.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const TOKEN_FILE = 'server.token';
const TOKEN_PATTERN = /^[0-9a-f]{48}$/;

export function generateToken(): string {
  return randomBytes(24).toString('hex');
}

export interface ProjectToken {
  token: string;
  /** Why a new token was made where one existed (to tell the user), else null. */
  replaced: string | null;
}

/** Group or other permission bits: someone else may have read it (POSIX only). */
function readableByOthers(file: string): boolean {
  return process.platform !== 'win32' && (fs.statSync(file).mode & 0o077) !== 0;
}

/** The token in the project folder, or null when there is none (or it is not a token). */
export function readProjectToken(projectDir: string): string | null {
  try {
    const text = fs.readFileSync(path.join(projectDir, TOKEN_FILE), 'utf8').trim();
    return TOKEN_PATTERN.test(text) ? text : null;
  } catch {
    return null;
  }
}

/** Writes a new token with mode 0600, atomically (a temporary file renamed into place). */
function writeToken(projectDir: string): string {
  const token = generateToken();
  const file = path.join(projectDir, TOKEN_FILE);
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${token}\n`, { mode: 0o600, flag: 'w' });
  // writeFileSync's mode is masked by the umask and ignored for an existing file.
  if (process.platform !== 'win32') fs.chmodSync(temporary, 0o600);
  fs.renameSync(temporary, file);
  return token;
}

/**
 * The project's token: the one kept in its folder, or a new one when there is none, when asked to
 * rotate (`--new-token`), or when the file could be read by other users.
 */
export function projectToken(projectDir: string, options: { rotate?: boolean } = {}): ProjectToken {
  const file = path.join(projectDir, TOKEN_FILE);
  const existing = readProjectToken(projectDir);
  if (existing === null) return { token: writeToken(projectDir), replaced: null };
  if (options.rotate) return { token: writeToken(projectDir), replaced: 'rotated (--new-token)' };
  if (readableByOthers(file)) {
    return {
      token: writeToken(projectDir),
      replaced: `${file} was readable by other users; it now holds a new token readable by you only`,
    };
  }
  return { token: existing, replaced: null };
}
