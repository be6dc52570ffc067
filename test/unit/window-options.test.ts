import { describe, expect, it } from 'vitest';
import {
  CONTENT_SECURITY_POLICY,
  createTeamWindowOptions,
  createWindowOptions,
  isAllowedNavigation,
  isTrustedSender,
  TEAM_PARTITION,
  teamChildWindowOptions,
} from '../../src/main/window-options';

describe('Electron window security', () => {
  it('isolates the renderer from Node', () => {
    const prefs = createWindowOptions('/app/preload.cjs').webPreferences!;
    expect(prefs.contextIsolation).toBe(true);
    expect(prefs.sandbox).toBe(true);
    expect(prefs.nodeIntegration).toBe(false);
    expect(prefs.webSecurity).toBe(true);
    expect(prefs.webviewTag).toBe(false);
    expect(prefs.preload).toBe('/app/preload.cjs');
  });

  it('has a strict CSP', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval');
    expect(CONTENT_SECURITY_POLICY).toContain("object-src 'none'");
  });

  it('locks navigation and IPC to the app page', () => {
    const app = 'file:///opt/app/out/renderer/index.html';
    expect(isAllowedNavigation('file:///opt/app/out/renderer/index.html#x', app)).toBe(true);
    expect(isAllowedNavigation('https://example.com/', app)).toBe(false);
    expect(isAllowedNavigation('file:///etc/passwd', app)).toBe(false);
    expect(isTrustedSender(undefined, app)).toBe(false);
    expect(isTrustedSender('http://localhost:5173/', 'http://localhost:5173/')).toBe(true);
    expect(isTrustedSender('http://localhost:6666/', 'http://localhost:5173/')).toBe(false);
  });

  it('gives a team server’s page no preload, its own session and the same isolation', () => {
    const team = createTeamWindowOptions('https://ws.example.org').webPreferences!;
    const local = createWindowOptions('/app/preload.cjs').webPreferences!;
    // No preload: a remote page has no window.api and no IPC to the local project.
    expect(team.preload).toBeUndefined();
    expect(teamChildWindowOptions().webPreferences!.preload).toBeUndefined();
    // Its own session: the local page's media protocol and cookies are not there.
    expect(team.partition).toBe(TEAM_PARTITION);
    expect(local.partition).toBeUndefined();
    expect(TEAM_PARTITION).toMatch(/^persist:/);
    for (const prefs of [team, teamChildWindowOptions().webPreferences!]) {
      expect(prefs).toMatchObject({
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        webviewTag: false,
      });
    }
    // A team page is never a trusted IPC sender of the app's page.
    expect(
      isTrustedSender('https://ws.example.org/', 'file:///opt/app/out/renderer/index.html'),
    ).toBe(false);
  });
});
