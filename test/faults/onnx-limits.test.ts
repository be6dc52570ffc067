/**
 * Fault suite: ONNX models whose declared sizes no machine here can run, and a model with an
 * operator no runtime has, added through the contract to the real `qataseg serve`. The old code
 * grew the worker past 5.9 GB for an input of [1,1,30000,30000], failed with "Invalid typed
 * array length" for 100000x100000 and said "does not fit the config" for an unknown operator.
 * Each is refused with a reason in words (the memory figure; the operator), and a failed add
 * leaves no models/<name> folder that blocks the name afterwards.
 *
 * Bound: the server's peak resident memory (VmHWM) grows by less than 300 MiB over the idle server.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { python } from '../unit/interop-fixtures';
import { tempDir } from './fault-fixtures';
import {
  callApi,
  peakResidentBytes,
  qatasegBin,
  startServe,
  waitForJobOver,
  type ServeProcess,
} from './serve-process';

const MiB = 1024 * 1024;
const PEAK_GROWTH_BOUND = 300 * MiB;

let base: string;
let projectDir: string;
let serve: ServeProcess;
let baselinePeak: number | null;

function expectMemoryBound() {
  const peak = peakResidentBytes(serve);
  if (baselinePeak === null || peak === null) return; // not Linux
  expect(peak - baselinePeak, `peak RSS ${Math.round(peak / MiB)} MiB`).toBeLessThan(
    PEAK_GROWTH_BOUND,
  );
}

const fixedConfig = (size: number) => ({
  input: { layout: 'NCHW', channels: 1, size, mode: 'resize', scaling: '-1..1' },
  output: { activation: 'probabilities', classes: 2, foreground: 1 },
});

beforeAll(async () => {
  base = tempDir('onnx-limits');
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
  await python('make_onnx.py', 'softmax2', path.join(base, 'huge.onnx'), '30000');
  await python('make_onnx.py', 'softmax2', path.join(base, 'vast.onnx'), '100000');
  await python('make_onnx.py', 'unknownop', path.join(base, 'unknown.onnx'));
  serve = await startServe(['--project', projectDir]);
  baselinePeak = peakResidentBytes(serve);
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

/** Adds a model; resolves with the refusal or the job's error, and whether its folder is left. */
async function addModel(file: string, name: string, config: unknown) {
  const answer = await callApi(serve, 'models.add', { path: file, name, config });
  let reason = answer.body.message ?? '';
  if (answer.status === 200) {
    const job = await waitForJobOver(serve, answer.body.id!);
    expect(job.state).not.toBe('succeeded');
    reason = job.error ?? '';
  }
  return {
    status: answer.status,
    reason,
    folderLeft: fs.existsSync(path.join(projectDir, 'models', name)),
  };
}

describe('ONNX models are refused before they exhaust memory', () => {
  it('refuses an input of [1,1,30000,30000] with the memory figure, leaving no folder', async () => {
    const added = await addModel(path.join(base, 'huge.onnx'), 'huge', fixedConfig(30000));
    expect(added.status).toBe(400);
    expect(added.reason).toMatch(/30000x30000.*GiB/);
    expect(added.folderLeft).toBe(false);
    expectMemoryBound();
  }, 120_000);

  it('refuses 100000x100000 with the memory figure, not "Invalid typed array length"', async () => {
    const added = await addModel(path.join(base, 'vast.onnx'), 'vast', fixedConfig(100000));
    expect(added.status).toBe(400);
    expect(added.reason).toMatch(/100000x100000.*GiB/);
    expect(added.reason).not.toMatch(/typed array/);
    expect(added.folderLeft).toBe(false);
    expectMemoryBound();
  }, 120_000);

  it('names an operator no runtime has, leaves no folder, and the name can be used again', async () => {
    const config = {
      input: { layout: 'NHWC', channels: 3, size: 'dynamic', scaling: '0..1' },
      output: { activation: 'logits', classes: 1 },
    };
    const added = await addModel(path.join(base, 'unknown.onnx'), 'unknown', config);
    expect(added.reason).toMatch(/NoSuchOperator/);
    expect(added.reason).not.toMatch(/does not fit the config/);
    expect(added.folderLeft).toBe(false);
    const again = await callApi(serve, 'models.add', {
      path: path.join(base, 'unknown.onnx'),
      name: 'unknown',
      config,
    });
    expect(again.body.message ?? '').not.toMatch(/exists already/);
  }, 120_000);
});
