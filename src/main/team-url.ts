/**
 * Opening a team project (`qataseg serve --team`) in the desktop app by its URL: what the command
 * line asks for, the recent team URLs kept in a small JSON file in the app's user data, and why a
 * team window did not open, in words. The address rule itself (which URLs are accepted, where a
 * team window may go) is shared/team-url.ts. No Electron import: tested under Node.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseTeamUrl, TEAM_URL_MAX_LENGTH } from '../shared/team-url';

export {
  isAllowedTeamNavigation,
  isLoopbackHost,
  parseTeamUrl,
  type TeamUrl,
  type TeamUrlResult,
} from '../shared/team-url';

export const RECENT_TEAM_URLS_LIMIT = 8;
export const RECENT_TEAM_URLS_FILE = 'team-urls.json';

/** What the app was asked to open on start. */
export interface LaunchRequest {
  /** `--project DIR`, or null. */
  projectDir: string | null;
  /** `--team-url URL` as given (parse it with parseTeamUrl), or null. */
  teamUrl: string | null;
  /**
   * Whether the local window (core in this process) opens: with `--project`, or when no team URL
   * was asked for (the first start's demo project). A team URL alone opens only its window.
   */
  openLocal: boolean;
}

function optionValue(argv: readonly string[], name: string): string | null {
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index];
    if (arg === name) return argv[index + 1] ?? '';
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
  }
  return null;
}

/** Reads `--project DIR` and `--team-url URL` (or `--team-url=URL`) from the app's argv. */
export function launchRequest(argv: readonly string[]): LaunchRequest {
  const projectDir = optionValue(argv, '--project') || null;
  const teamUrl = optionValue(argv, '--team-url');
  return { projectDir, teamUrl, openLocal: projectDir !== null || teamUrl === null };
}

const recentFileSchema = z.object({
  version: z.literal(1),
  urls: z.array(z.string().max(TEAM_URL_MAX_LENGTH)).max(100),
});

/**
 * The address the recent list keeps: origin and path only. A query may carry a browser-mode token
 * and is never written to disk.
 */
export function recentEntry(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/**
 * The recent team URLs, newest first. A missing, unreadable or malformed file is an empty list;
 * an entry that would no longer be accepted (edited by hand) is left out.
 */
export function readRecentTeamUrls(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  const result = recentFileSchema.safeParse(parsed);
  if (!result.success) return [];
  const urls: string[] = [];
  for (const url of result.data.urls) {
    const checked = parseTeamUrl(url);
    if (checked.ok && !urls.includes(checked.url)) urls.push(checked.url);
  }
  return urls.slice(0, RECENT_TEAM_URLS_LIMIT);
}

/**
 * Puts `url` first in the recent list (without its query and fragment; no duplicate), keeps at
 * most `limit`, writes the file atomically (a temporary file renamed over it) and returns the list.
 */
export function rememberTeamUrl(
  file: string,
  url: string,
  limit = RECENT_TEAM_URLS_LIMIT,
): string[] {
  const checked = parseTeamUrl(url);
  if (!checked.ok) throw new Error(checked.message);
  const entry = recentEntry(checked.url);
  const urls = [entry, ...readRecentTeamUrls(file).filter((known) => known !== entry)].slice(
    0,
    limit,
  );
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify({ version: 1, urls }, null, 2)}\n`, {
    mode: 0o600,
  });
  fs.renameSync(temporary, file);
  return urls;
}

/**
 * Chromium's network error codes a team window can meet, in words. Certificate errors are never
 * bypassed: the user is told to make the certificate trusted by this computer instead.
 */
export function teamLoadFailureMessage(url: string, code: number, description: string): string {
  const what = `Could not open the team project at ${url}`;
  // -200..-299: certificate errors (net/base/net_error_list.h).
  if (code <= -200 && code > -300) {
    return (
      `${what}: its certificate is not valid for this computer (${description}). ` +
      `The app never bypasses a certificate error: install a certificate your system trusts ` +
      `on the server (or add its authority to this computer's trusted certificates).`
    );
  }
  if (description === 'ERR_CONNECTION_REFUSED') {
    return `${what}: nothing answers there (${description}). Is qataseg serve --team running?`;
  }
  return `${what} (${description}, ${code}).`;
}
