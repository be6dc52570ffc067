/**
 * The team's command line, run as a user runs it (`bin/qataseg.mjs`): `serve --team` refuses a
 * project without users and says how to add the first admin; `user add|list|disable|reset` and
 * `audit`; and `serve --team --tls-cert --tls-key` over HTTPS with an openssl-made certificate,
 * checked by Node's TLS client against that certificate (the session cookie is then Secure).
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import readline from 'node:readline';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from './project-fixtures';

const bin = path.resolve(import.meta.dirname, '../../bin/qataseg.mjs');
const execFileAsync = promisify(execFile);

async function qataseg(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [bin, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

function request(
  url: string,
  ca: Buffer,
  options: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method: options.method ?? 'GET', ca, headers: options.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('qataseg user, audit and serve --team', () => {
  it('refuses serve --team without users, manages users, and serves over TLS', async () => {
    const project = tempDir('team-cli');
    const refused = await qataseg(['serve', '--team', '--project', project, '--port', '0']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`qataseg user add NAME --role admin --project`);

    const added = await qataseg([
      'user',
      'add',
      'ada',
      '--role',
      'admin',
      '--project',
      project,
      '--json',
    ]);
    expect(added.code).toBe(0);
    const ada = JSON.parse(added.stdout) as {
      user: { name: string };
      password: string;
      token: string;
    };
    expect(ada.user.name).toBe('ada');
    expect(
      (await qataseg(['user', 'add', 'bo', '--role', 'reader', '--project', project])).stdout,
    ).toMatch(/one-time password: \S+/);
    expect((await qataseg(['user', 'disable', 'bo', '--project', project])).code).toBe(0);
    const list = JSON.parse(
      (await qataseg(['user', 'list', '--project', project, '--json'])).stdout,
    ) as Array<{
      name: string;
      disabledAt: string | null;
    }>;
    expect(list.map((u) => [u.name, u.disabledAt !== null])).toEqual([
      ['ada', false],
      ['bo', true],
    ]);
    const audit = JSON.parse(
      (await qataseg(['audit', '--project', project, '--user', 'owner', '--json'])).stdout,
    ) as Array<{ action: string }>;
    expect(audit.map((entry) => entry.action)).toEqual(['users.disable', 'users.add', 'users.add']);

    // An openssl-made certificate for 127.0.0.1.
    const certDir = tempDir('team-tls');
    const cert = path.join(certDir, 'cert.pem');
    const key = path.join(certDir, 'key.pem');
    await execFileAsync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]);
    const ca = fs.readFileSync(cert);
    const child = spawn(
      process.execPath,
      [
        bin,
        'serve',
        '--team',
        '--project',
        project,
        '--port',
        '0',
        '--json',
        '--tls-cert',
        cert,
        '--tls-key',
        key,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const lines = readline.createInterface({ input: child.stdout });
      const info = await new Promise<{ url: string; team: boolean }>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
        lines.on('line', (line) => resolve(JSON.parse(line) as { url: string; team: boolean }));
      });
      expect(info.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
      expect(info.team).toBe(true);
      expect((await request(`${info.url}login`, ca)).status).toBe(200);
      const signedIn = await request(`${info.url}login`, ca, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ name: 'ada', password: ada.password }).toString(),
      });
      expect(signedIn.status).toBe(303);
      expect(String(signedIn.headers['set-cookie'])).toMatch(
        /HttpOnly; SameSite=Strict; Path=\/; Secure/,
      );
      const me = await request(`${info.url}api/auth.me`, ca, {
        method: 'POST',
        headers: { 'x-qataseg-token': ada.token, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(JSON.parse(me.body)).toMatchObject({ user: { name: 'ada', role: 'admin' } });
      // The CLI reaches the server that holds the project, as its owner, over HTTPS.
      const users = await qataseg(['user', 'list', '--project', project, '--json']);
      expect(users.code).toBe(0);
      expect(users.stdout).toContain('"ada"');
      // A client that does not trust the certificate gets no answer.
      await expect(request(`${info.url}login`, Buffer.from(''))).rejects.toThrow();
    } finally {
      child.kill('SIGTERM');
    }
  }, 400_000);
});
