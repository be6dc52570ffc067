/**
 * The desktop app opens a team project by its URL (src/main/team-url.ts): which addresses it
 * accepts and why it refuses the others, where a team window may go, what the command line asks
 * for, and the recent URLs kept in a real JSON file in a temporary folder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isAllowedTeamNavigation,
  isLoopbackHost,
  launchRequest,
  parseTeamUrl,
  readRecentTeamUrls,
  RECENT_TEAM_URLS_LIMIT,
  recentEntry,
  rememberTeamUrl,
  teamLoadFailureMessage,
} from '../../src/main/team-url';

function refusal(input: string): string {
  const result = parseTeamUrl(input);
  if (result.ok) throw new Error(`${input} was accepted as ${result.url}`);
  return result.message;
}

describe('the team address the app accepts', () => {
  it('accepts https anywhere and keeps path and query, without the fragment', () => {
    expect(parseTeamUrl('  https://ws.example.org:8443/  ')).toEqual({
      ok: true,
      url: 'https://ws.example.org:8443/',
      origin: 'https://ws.example.org:8443',
    });
    expect(parseTeamUrl('https://ws.example.org/team/?x=1#frag')).toEqual({
      ok: true,
      url: 'https://ws.example.org/team/?x=1',
      origin: 'https://ws.example.org',
    });
    expect(parseTeamUrl('HTTPS://WS.Example.ORG')).toMatchObject({
      ok: true,
      url: 'https://ws.example.org/',
    });
  });

  it('accepts http only for a server on this computer', () => {
    for (const local of [
      'http://127.0.0.1:7790/',
      'http://localhost:7790/',
      'http://[::1]:7790/',
      'http://127.1.2.3/',
      'http://team.localhost/',
      // The URL parser's other spellings of loopback.
      'http://2130706433/',
      'http://0x7f.1/',
      'http://[::ffff:127.0.0.1]/',
    ]) {
      expect(parseTeamUrl(local).ok, local).toBe(true);
    }
    for (const remote of [
      'http://ws.example.org/',
      'http://10.0.0.5:7790/',
      'http://128.0.0.1/',
      'http://[::2]/',
      'http://[::ffff:10.0.0.1]/',
      'http://localhost.example.org/',
      'http://0.0.0.0:7790/',
    ]) {
      expect(refusal(remote), remote).toMatch(/must be reached over https:\/\//);
    }
    expect(refusal('http://ws.example.org/')).toContain('ws.example.org');
  });

  it('refuses every other scheme, saying only http(s) opens', () => {
    for (const other of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/html,<h1>x</h1>',
      'ftp://ws.example.org/',
      'ws://127.0.0.1:7790/',
      'qataseg-media://image/1',
    ]) {
      expect(refusal(other), other).toMatch(/Only http:\/\/ and https:\/\//);
    }
  });

  it('asks for the whole address when the scheme is missing', () => {
    for (const partial of ['ws.example.org', 'ws.example.org:8443', 'localhost:7790/', '//host/']) {
      expect(refusal(partial), partial).toMatch(/whole address with https:\/\//);
    }
    expect(refusal('   ')).toMatch(/Enter the team server's address/);
    expect(refusal('https://')).toMatch(/not a valid address/);
  });

  it('refuses a name or password in the address, and an address too long', () => {
    expect(refusal('https://ada:secret@ws.example.org/')).toMatch(/name or password/);
    expect(refusal('https://ada@ws.example.org/')).toMatch(/name or password/);
    expect(refusal(`https://ws.example.org/${'a'.repeat(2100)}`)).toMatch(/longer than/);
  });

  it('knows loopback host names as the URL parser writes them', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('[::ffff:7f00:1]')).toBe(true);
    expect(isLoopbackHost('LOCALHOST')).toBe(true);
    expect(isLoopbackHost('[::ffff:a00:1]')).toBe(false);
    expect(isLoopbackHost('localhost.')).toBe(false);
    expect(isLoopbackHost('127.0.0.1.nip.io')).toBe(false);
  });
});

describe('where a team window may go', () => {
  const origin = 'https://ws.example.org:8443';

  it('stays on the server’s origin', () => {
    expect(isAllowedTeamNavigation('https://ws.example.org:8443/login', origin)).toBe(true);
    expect(isAllowedTeamNavigation('https://ws.example.org:8443/?x=1#y', origin)).toBe(true);
    expect(isAllowedTeamNavigation('https://ws.example.org/login', origin)).toBe(false);
    expect(isAllowedTeamNavigation('http://ws.example.org:8443/login', origin)).toBe(false);
    expect(isAllowedTeamNavigation('https://evil.example.org:8443/', origin)).toBe(false);
    expect(isAllowedTeamNavigation('https://ws.example.org.evil.org:8443/', origin)).toBe(false);
    expect(isAllowedTeamNavigation('https://a:b@ws.example.org:8443/', origin)).toBe(false);
  });

  it('never leaves for a local file, the media protocol or script', () => {
    const local = parseTeamUrl('http://127.0.0.1:7790/');
    if (!local.ok) throw new Error(local.message);
    for (const target of [
      'file:///etc/passwd',
      'qataseg-media://image/1',
      'javascript:alert(1)',
      'about:blank',
      'blob:http://127.0.0.1:7790/0f0f',
      'not a url',
      'http://127.0.0.1:7791/',
      'http://localhost:7790/',
    ]) {
      expect(isAllowedTeamNavigation(target, local.origin), target).toBe(false);
    }
    expect(isAllowedTeamNavigation('http://127.0.0.1:7790/login', local.origin)).toBe(true);
  });
});

describe('what the command line asks for', () => {
  it('reads --team-url beside --project, in both spellings', () => {
    expect(launchRequest(['electron', 'out/main/index.js'])).toEqual({
      projectDir: null,
      teamUrl: null,
      openLocal: true,
    });
    expect(launchRequest(['app', '--team-url', 'https://ws.example.org/'])).toEqual({
      projectDir: null,
      teamUrl: 'https://ws.example.org/',
      openLocal: false,
    });
    expect(launchRequest(['app', '--team-url=https://ws.example.org/'])).toMatchObject({
      teamUrl: 'https://ws.example.org/',
      openLocal: false,
    });
    expect(
      launchRequest(['app', '--project', '/data/p', '--team-url', 'https://ws.example.org/']),
    ).toEqual({ projectDir: '/data/p', teamUrl: 'https://ws.example.org/', openLocal: true });
    expect(launchRequest(['app', '--project', '/data/p'])).toEqual({
      projectDir: '/data/p',
      teamUrl: null,
      openLocal: true,
    });
  });

  it('a --team-url without its address is an empty one, refused with the reason', () => {
    const request = launchRequest(['app', '--team-url']);
    expect(request).toMatchObject({ teamUrl: '', openLocal: false });
    expect(refusal(request.teamUrl!)).toMatch(/Enter the team server's address/);
  });
});

describe('the recent team URLs', () => {
  const folders: string[] = [];
  afterEach(() => {
    for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
  });
  function tempFile(): string {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-team-url-'));
    folders.push(folder);
    return path.join(folder, 'userData', 'team-urls.json');
  }

  it('keeps the newest first, once each, at most the limit, across reads', () => {
    const file = tempFile();
    expect(readRecentTeamUrls(file)).toEqual([]);
    rememberTeamUrl(file, 'https://a.example.org/');
    rememberTeamUrl(file, 'http://127.0.0.1:7790/');
    expect(rememberTeamUrl(file, 'https://a.example.org/#again')).toEqual([
      'https://a.example.org/',
      'http://127.0.0.1:7790/',
    ]);
    for (let index = 0; index < RECENT_TEAM_URLS_LIMIT + 3; index += 1) {
      rememberTeamUrl(file, `https://host${index}.example.org/`);
    }
    const recent = readRecentTeamUrls(file);
    expect(recent).toHaveLength(RECENT_TEAM_URLS_LIMIT);
    expect(recent[0]).toBe(`https://host${RECENT_TEAM_URLS_LIMIT + 2}.example.org/`);
    expect(recent).not.toContain('https://a.example.org/');
    // The file is plain JSON another version of the app can read, and written whole.
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ version: 1, urls: recent });
    expect(fs.readdirSync(path.dirname(file))).toEqual(['team-urls.json']);
  });

  it('never writes a query (a browser-mode token) to disk', () => {
    const file = tempFile();
    rememberTeamUrl(file, 'http://127.0.0.1:7790/?token=s3cret');
    expect(fs.readFileSync(file, 'utf8')).not.toContain('s3cret');
    expect(readRecentTeamUrls(file)).toEqual(['http://127.0.0.1:7790/']);
    expect(recentEntry('https://a.example.org/team/?token=x#y')).toBe(
      'https://a.example.org/team/',
    );
  });

  it('refuses to remember an address it would not open', () => {
    const file = tempFile();
    expect(() => rememberTeamUrl(file, 'http://ws.example.org/')).toThrow(/https/);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('reads a damaged or hand-edited file as what it can still accept', () => {
    const file = tempFile();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{ not json');
    expect(readRecentTeamUrls(file)).toEqual([]);
    fs.writeFileSync(file, JSON.stringify({ version: 2, urls: ['https://a.example.org/'] }));
    expect(readRecentTeamUrls(file)).toEqual([]);
    fs.writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        urls: ['file:///etc/passwd', 'http://ws.example.org/', 'https://ok.example.org/'],
      }),
    );
    expect(readRecentTeamUrls(file)).toEqual(['https://ok.example.org/']);
    // Remembering over a damaged file starts the list afresh.
    fs.writeFileSync(file, 'garbage');
    expect(rememberTeamUrl(file, 'https://b.example.org/')).toEqual(['https://b.example.org/']);
  });
});

describe('why a team window did not open', () => {
  it('says a certificate error is never bypassed, and what to do', () => {
    const message = teamLoadFailureMessage(
      'https://ws.example.org/',
      -202,
      'ERR_CERT_AUTHORITY_INVALID',
    );
    expect(message).toMatch(/never bypasses a certificate error/);
    expect(message).toContain('ERR_CERT_AUTHORITY_INVALID');
  });

  it('says when nothing answers', () => {
    expect(
      teamLoadFailureMessage('http://127.0.0.1:7790/', -102, 'ERR_CONNECTION_REFUSED'),
    ).toMatch(/nothing answers there.*serve --team/);
  });
});
