import { describe, expect, it } from 'vitest';
import {
  CONTENT_SECURITY_POLICY,
  createWindowOptions,
  isAllowedNavigation,
  isTrustedSender,
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
});
