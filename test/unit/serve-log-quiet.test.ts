/**
 * The server's log says nothing the user should not act on: while onnxruntime trains, tfjs (which
 * keeps the model of record on its JavaScript CPU backend) must not print its advice to install
 * its node backend.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startServe, type ServeProcess } from '../faults/serve-process';

const started: ServeProcess[] = [];
const folders: string[] = [];
afterEach(async () => {
  for (const serve of started.splice(0)) await serve.stop();
  for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
});

async function call<T>(serve: ServeProcess, method: string, input: unknown = {}): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${serve.port}/api/${method}`, {
    method: 'POST',
    headers: { 'x-qataseg-token': serve.token, 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  const body = (await response.json()) as T;
  if (!response.ok) throw new Error(`${method}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

interface Job {
  id: string;
  state: string;
  error: string | null;
  detail: { backend?: string };
}

describe('qataseg serve log', () => {
  it('has no tfjs advice to install its node backend while onnxruntime trains', async () => {
    const projectDir = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-quiet-log-'));
    folders.push(projectDir);
    const serve = await startServe(['--project', projectDir, '--demo', '--no-demo-model'], {
      QATASEG_BACKEND: 'onnxruntime',
    });
    started.push(serve);
    const job = await call<Job>(serve, 'train.start', { epochs: 1, size: 32, base: 4, batch: 8 });
    let finished = job;
    while (finished.state === 'running') {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const jobs = await call<Job[]>(serve, 'jobs.list');
      finished = jobs.find((candidate) => candidate.id === job.id) ?? finished;
    }
    expect(finished.error).toBeNull();
    expect(finished.state).toBe('succeeded');
    expect(finished.detail.backend).toBe('onnxruntime');
    expect(serve.stderr()).not.toMatch(/install our node backend|tfjs-node for more details/);
  }, 180_000);
});
