/**
 * PACS secrets in the desktop app: encrypted with Electron's safeStorage (the OS keychain: macOS
 * Keychain, Windows DPAPI, libsecret/kwallet on Linux) into `<project>/.secrets/keychain/<name>`,
 * owner-only. Where the OS offers no keychain (safeStorage unavailable, or Linux's plain-text
 * fallback) it keeps core's owner-only file, as the CLI and the server do; a secret the CLI stored
 * that way is still read.
 */
import fs from 'node:fs';
import path from 'node:path';
import { safeStorage } from 'electron';
import { FileSecretStore, SECRETS_DIR, type SecretStore } from '../core/pacs/connections';

function keychainAvailable(): boolean {
  if (!safeStorage.isEncryptionAvailable()) return false;
  // On Linux without a secret service Electron "encrypts" with a fixed key: no better than a file.
  return process.platform !== 'linux' || safeStorage.getSelectedStorageBackend() !== 'basic_text';
}

class SafeStorageSecretStore implements SecretStore {
  readonly description = 'the OS keychain (Electron safeStorage)';
  private readonly plain: FileSecretStore;

  constructor(private readonly projectDir: string) {
    this.plain = new FileSecretStore(projectDir);
  }

  private file(name: string): string {
    return path.join(this.projectDir, SECRETS_DIR, 'keychain', path.basename(name));
  }

  get(name: string): string | null {
    try {
      return safeStorage.decryptString(fs.readFileSync(this.file(name)));
    } catch {
      return this.plain.get(name);
    }
  }

  set(name: string, secret: string): void {
    const file = this.file(name);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const temporary = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, safeStorage.encryptString(secret), { mode: 0o600 });
    fs.renameSync(temporary, file);
    // One place per secret: a plain copy from the CLI goes once the keychain holds it.
    this.plain.remove(name);
  }

  remove(name: string): void {
    fs.rmSync(this.file(name), { force: true });
    this.plain.remove(name);
  }
}

/** The app's secret store for a project: the keychain where there is one, else an owner-only file. */
export function appSecretStore(projectDir: string): SecretStore {
  return keychainAvailable()
    ? new SafeStorageSecretStore(projectDir)
    : new FileSecretStore(projectDir);
}
