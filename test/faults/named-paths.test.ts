/**
 * Fault suite: paths a request names, sent to the real `qataseg serve`. Reads of a device
 * (/dev/zero, /dev/full), a FIFO or a folder are refused in words within the memory bound (the
 * old code read /dev/zero whole to 2.9 GB and blocked forever on a FIFO); outputs under /proc
 * are refused (the old export looped in mkdir forever and every later export got 409); relative
 * paths are relative to the project folder, not the server's working folder.
 *
 * Bound: the server's peak resident memory (VmHWM) grows by less than 300 MiB over the idle server.
 * A call that does not answer within its fetch timeout fails the test (a FIFO that blocks).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTP_API_PREFIX, TOKEN_HEADER } from '../../src/shared/channels';
import { python } from '../unit/interop-fixtures';
import { tempDir } from './fault-fixtures';
import { qatasegBin, startServe, type ServeProcess } from './serve-process';

const MiB = 1024 * 1024;
const PEAK_GROWTH_BOUND = 300 * MiB;
const ANSWER_TIMEOUT_MS = 30_000;
const NHWC_CONFIG = {
  input: { layout: 'NHWC', channels: 3, size: 'dynamic', scaling: '0..1' },
  output: { activation: 'logits', classes: 1 },
};

let base: string;
let projectDir: string;
let serve: ServeProcess;
let baselinePeak: number | null;

interface Answer {
  status: number;
  body: { message?: string; id?: string; state?: string; error?: string | null } & Record<
    string,
    unknown
  >;
}

async function call(method: string, input: unknown): Promise<Answer> {
  const response = await fetch(new URL(`${HTTP_API_PREFIX}${method}`, serve.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', [TOKEN_HEADER]: serve.token },
    body: JSON.stringify(input ?? {}),
    signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

interface JobView {
  id: string;
  state: string;
  error: string | null;
}

async function waitForJob(id: string): Promise<JobView> {
  for (;;) {
    const { body } = await call('jobs.list', {});
    const job = (body as unknown as JobView[]).find((candidate) => candidate.id === id);
    if (job && job.state !== 'running') return job;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function peakResident(): number | null {
  try {
    const status = fs.readFileSync(`/proc/${serve.child.pid}/status`, 'utf8');
    return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)![1]) * 1024;
  } catch {
    return null;
  }
}

function expectMemoryBound() {
  const peak = peakResident();
  if (baselinePeak === null || peak === null) return; // not Linux
  expect(peak - baselinePeak, `peak RSS ${Math.round(peak / MiB)} MiB`).toBeLessThan(
    PEAK_GROWTH_BOUND,
  );
}

async function expectAnswering() {
  const { status } = await call('images.list', {});
  expect(status).toBe(200);
}

beforeAll(async () => {
  base = tempDir('named-paths');
  projectDir = path.join(base, 'project');
  execFileSync(process.execPath, [
    qatasegBin,
    'demo',
    '--out',
    path.join(base, 'dataset'),
    '--count',
    '6',
    '--size',
    '32',
    '--project',
    projectDir,
  ]);
  await python('make_onnx.py', 'nhwc3', path.join(base, 'x.onnx'));
  execFileSync('mkfifo', [path.join(base, 'pipe.onnx')]);
  fs.mkdirSync(path.join(base, 'folder.onnx'));
  serve = await startServe(['--project', projectDir]);
  baselinePeak = peakResident();
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

describe('reads of a named path are guarded', () => {
  for (const device of ['/dev/zero', '/dev/full']) {
    it(`inspectOnnx and models.add refuse ${device} in words without reading it`, async () => {
      const inspected = await call('models.inspectOnnx', { path: device });
      expect(inspected.status).toBe(400);
      expect(inspected.body.message).toMatch(/not a regular file \(a character device\)/);
      const added = await call('models.add', { path: device, config: NHWC_CONFIG });
      expect(added.status).toBe(400);
      expect(added.body.message).toMatch(/not a regular file \(a character device\)/);
      expectMemoryBound();
      await expectAnswering();
    });
  }

  it('inspectOnnx and models.add refuse a FIFO without waiting on it', async () => {
    const fifo = path.join(base, 'pipe.onnx');
    // Several at once: the old code parked a thread per FIFO and stalled the server's reads.
    const answers = await Promise.all([
      ...Array.from({ length: 5 }, () => call('models.inspectOnnx', { path: fifo })),
      call('models.add', { path: fifo, config: NHWC_CONFIG }),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(answer.body.message).toMatch(/not a regular file \(a FIFO\)/);
    }
    await expectAnswering();
  });

  it('inspectOnnx refuses a folder and /proc entries', async () => {
    const folder = await call('models.inspectOnnx', { path: path.join(base, 'folder.onnx') });
    expect(folder.status).toBe(400);
    expect(folder.body.message).toMatch(/is a folder/);
    const proc = await call('models.inspectOnnx', { path: '/proc/self/status' });
    expect(proc.status).toBe(400);
    expect(proc.body.message).toMatch(/not an ordinary file/);
  });

  it('resolves a relative model path against the project folder, not the server working folder', async () => {
    const inspected = await call('models.inspectOnnx', { path: '../x.onnx' });
    expect(inspected.status, inspected.body.message).toBe(200);
    expect(inspected.body.inputs).toBeInstanceOf(Array);
  });

  it('resolves a relative predictions folder against the project folder', async () => {
    const predictions = path.join(base, 'predictions');
    fs.mkdirSync(predictions);
    const answer = await call('predictions.import', { folder: '../predictions', name: 'p1' });
    // An empty folder pairs nothing; what matters is which folder was looked at.
    const text =
      answer.status === 200
        ? (await waitForJob(answer.body.id!)).error
        : (answer.body.message ?? '');
    expect(text).toContain(fs.realpathSync(predictions));
  });
});

describe('outputs go to ordinary folders only', () => {
  it('export to /proc/xx is refused in words, and a later export runs', async () => {
    const refused = await call('export.start', { out: '/proc/xx' });
    if (refused.status === 200) {
      // The old code started a job that spun in mkdir; cancel must still end it.
      await call('jobs.cancel', { id: refused.body.id });
      const job = await waitForJob(refused.body.id!);
      expect(job.state).not.toBe('running');
    }
    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(/kernel file system/);
    const out = path.join(base, 'exported-masks');
    const started = await call('export.start', { out });
    expect(started.status, started.body.message).toBe(200);
    const job = await waitForJob(started.body.id!);
    expect(job.state, job.error ?? '').toBe('succeeded');
    expect(fs.readdirSync(out).length).toBeGreaterThan(0);
  });

  it('a model added from a relative path exports to a relative path under the project folder', async () => {
    const added = await call('models.add', { path: '../x.onnx', name: 'ext', config: NHWC_CONFIG });
    expect(added.status, added.body.message).toBe(200);
    const job = await waitForJob(added.body.id!);
    expect(job.state, job.error ?? '').toBe('succeeded');
    const exported = await call('models.exportOnnx', { version: 'ext', out: '../onnx/m.onnx' });
    expect(exported.status, exported.body.message).toBe(200);
    expect(fs.existsSync(path.join(base, 'onnx', 'm.onnx'))).toBe(true);
  }, 120_000);

  it('models.exportOnnx to /proc answers 400 in words and the worker still answers', async () => {
    const answer = await call('models.exportOnnx', { version: 'ext', out: '/proc/zz/m.onnx' });
    expect(answer.status).toBe(400);
    expect(answer.body.message).toMatch(/kernel file system/);
    const tooLong = await call('models.exportOnnx', {
      version: 'ext',
      out: path.join(base, `${'n'.repeat(300)}`, 'm.onnx'),
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.message).not.toMatch(/^ENAMETOOLONG/);
    expect(tooLong.body.message).toMatch(/is too long \(over 255 bytes\)/);
    const status = await call('worker.status', {});
    expect(status.status).toBe(200);
  });
});
