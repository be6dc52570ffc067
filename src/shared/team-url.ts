/**
 * The address rule of "open a team project by its URL" in the desktop app: which addresses are
 * accepted (only http(s); http only for this computer; https for any other host; no credentials)
 * and where a team window may go (the server's own origin only). Plain functions of strings, so
 * the main process (which decides) and the page's tests read the same rule.
 */

/** A team address as the app opens it: the URL to load and the one origin its window may use. */
export interface TeamUrl {
  url: string;
  origin: string;
}

export type TeamUrlResult = ({ ok: true } & TeamUrl) | { ok: false; message: string };

export const TEAM_URL_MAX_LENGTH = 2048;

const EXAMPLE = 'https://workstation.example.org:8443/';

/**
 * Whether `hostname` (as `URL.hostname` gives it) is this computer: localhost and *.localhost,
 * 127.0.0.0/8, ::1 and IPv4-mapped 127.x. The URL parser has already normalised 0x7f.1,
 * 2130706433 and the like to dotted decimal.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return host.startsWith('127.');
  if (host.includes(':')) {
    if (host === '::1') return true;
    // The URL parser writes ::ffff:127.0.0.1 as ::ffff:7f00:1.
    const mapped = /^::ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}$/.exec(host);
    return mapped !== null && mapped[1].padStart(4, '0').startsWith('7f');
  }
  return false;
}

/**
 * Reads what the user typed (or passed as `--team-url`): only http(s), http only for a server on
 * this computer, https for any other host, no name or password in the address. The fragment is
 * dropped; the path and query are kept (the server's own sign-in page takes it from there).
 */
export function parseTeamUrl(input: string): TeamUrlResult {
  const text = input.trim();
  if (text === '') {
    return { ok: false, message: `Enter the team server's address, such as ${EXAMPLE}` };
  }
  if (text.length > TEAM_URL_MAX_LENGTH) {
    return { ok: false, message: `That address is longer than ${TEAM_URL_MAX_LENGTH} characters` };
  }
  // `host:8443` would parse as a URL of scheme "host:": ask for the scheme instead.
  const hostAndPort = /^[^/:?#]+:\d+([/?#]|$)/.test(text);
  if (hostAndPort || !/^[a-z][a-z0-9+.-]*:/i.test(text)) {
    return {
      ok: false,
      message: `Give the whole address with https:// (or http:// for this computer), such as ${EXAMPLE}`,
    };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, message: `"${text}" is not a valid address; use one such as ${EXAMPLE}` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return {
      ok: false,
      message: `Only http:// and https:// addresses can be opened as a team project, not ${url.protocol}`,
    };
  }
  if (url.username !== '' || url.password !== '') {
    return {
      ok: false,
      message: 'An address with a name or password in it is refused: sign in on the server’s page',
    };
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    return {
      ok: false,
      message:
        `http:// is only accepted for a server on this computer (localhost, 127.0.0.1, [::1]); ` +
        `${url.hostname} must be reached over https:// (qataseg serve --team --tls-cert/--tls-key, ` +
        `or a reverse proxy with TLS)`,
    };
  }
  url.hash = '';
  return { ok: true, url: url.href, origin: url.origin };
}

/**
 * Whether a team window (or a frame in it, a redirect, a window it opens) may go to `target`:
 * only the team server's own origin, over the same scheme and port, without credentials.
 */
export function isAllowedTeamNavigation(target: string, origin: string): boolean {
  try {
    const to = new URL(target);
    if (to.protocol !== 'https:' && to.protocol !== 'http:') return false;
    if (to.username !== '' || to.password !== '') return false;
    return to.origin === origin;
  } catch {
    return false;
  }
}
