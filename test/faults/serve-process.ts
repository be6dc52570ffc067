/**
 * The real `qataseg serve` as a child process, for the fault suite: started the way a user starts
 * it (`--json` prints the address), stopped with SIGTERM, its stderr kept for the failure message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { HTTP_API_PREFIX, TOKEN_HEADER } from '../../src/shared/channels';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const qatasegBin = path.join(repoRoot, 'bin/qataseg.mjs');

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  port: number;
  token: string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  alive(): boolean;
  stop(): Promise<void>;
}

export async function startServe(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [qatasegBin, 'serve', '--port', '0', '--json', ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, QATASEG_BACKEND: 'cpu', ...env },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  const lines = readline.createInterface({ input: child.stdout });
  const info = await new Promise<{ url: string; token: string; port: number }>(
    (resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('qataseg serve did not start in 60 s')),
        60_000,
      );
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`qataseg serve exited with ${code}: ${stderr}`));
      });
      lines.on('line', (line) => {
        try {
          const parsed = JSON.parse(line) as { url?: string; token: string; port: number };
          if (parsed.url) {
            clearTimeout(timer);
            resolve(parsed as { url: string; token: string; port: number });
          }
        } catch {
          // Not the address line.
        }
      });
    },
  );
  return {
    child,
    ...info,
    stderr: () => stderr,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export interface RawResponse {
  /** HTTP status of the first response line, or null when the server closed without one. */
  status: number | null;
  text: string;
}

/** Sends raw bytes on a fresh TCP connection and reads until the server closes (or 3 s pass). */
export function rawRequest(
  port: number,
  bytes: string | Buffer,
  holdMs = 3000,
): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: match ? Number(match[1]) : null, text });
    };
    const timer = setTimeout(finish, holdMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', finish);
    socket.on('close', finish);
    socket.write(bytes);
  });
}

export interface ApiAnswer {
  status: number;
  // The contract's JSON; each test reads the fields it checks.
  body: { message?: string; id?: string } & Record<string, unknown>;
}

/** One contract call over HTTP; a call unanswered within `timeoutMs` fails (a blocked server). */
export async function callApi(
  serve: ServeProcess,
  method: string,
  input: unknown,
  timeoutMs = 60_000,
): Promise<ApiAnswer> {
  const response = await fetch(new URL(`${HTTP_API_PREFIX}${method}`, serve.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', [TOKEN_HEADER]: serve.token },
    body: JSON.stringify(input ?? {}),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: response.status, body: (await response.json()) as ApiAnswer['body'] };
}

export interface EndedJob {
  id: string;
  state: string;
  error: string | null;
  result?: unknown;
}

/** Polls jobs.list until job `id` is no longer running. */
export async function waitForJobOver(serve: ServeProcess, id: string): Promise<EndedJob> {
  for (;;) {
    const { body } = await callApi(serve, 'jobs.list', {});
    const job = (body as unknown as EndedJob[]).find((candidate) => candidate.id === id);
    if (job && job.state !== 'running') return job;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The server's peak resident memory (VmHWM) in bytes; null where /proc is not there. */
export function peakResidentBytes(serve: ServeProcess): number | null {
  try {
    const status = fs.readFileSync(`/proc/${serve.child.pid}/status`, 'utf8');
    return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)![1]) * 1024;
  } catch {
    return null;
  }
}
