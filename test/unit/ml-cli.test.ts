/**
 * `qataseg train | predict | evaluate` as a user runs them: JSON lines from train, the evaluate
 * JSON with exactly the keys, predictions stored by predict, and a one-line refusal for a
 * configuration too big for wasm.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { latestPrediction } from '../../src/core/project/masks';
import { ProjectStore } from '../../src/core/project/store';
import { discProject } from './ml-fixtures';

const bin = path.resolve(import.meta.dirname, '../../bin/qataseg.mjs');
const execFileAsync = promisify(execFile);

async function qataseg(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [bin, ...args], {
      encoding: 'utf8',
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('qataseg train, predict, evaluate', () => {
  it('trains with JSON lines, predicts, and evaluates with the issue JSON', async () => {
    const project = await discProject(8, 3);
    const train = await qataseg(
      'train',
      '--project',
      project.dir,
      '--epochs',
      '2',
      '--size',
      '32',
      '--base',
      '4',
      '--lr',
      '0.003',
      '--backend',
      'wasm',
      '--json',
    );
    expect(train.stderr).toBe('');
    expect(train.code).toBe(0);
    const lines = train.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ event: 'started', version: 'v1', backend: 'wasm' });
    expect(lines.some((l) => l.event === 'progress' && typeof l.loss === 'number')).toBe(true);
    expect(lines.at(-1)).toMatchObject({
      event: 'end',
      state: 'succeeded',
      version: 'v1',
      epochs: 2,
    });

    const predict = await qataseg('predict', '--project', project.dir, '--backend', 'wasm');
    expect(predict.code).toBe(0);
    expect(predict.stdout).toContain('v1: 11 predictions stored');
    const store = ProjectStore.open(project.dir);
    for (const id of project.ids) expect(latestPrediction(store.db, id, 'v1')).not.toBeNull();
    store.close();

    const evaluate = await qataseg(
      'evaluate',
      '--project',
      project.dir,
      '--backend',
      'wasm',
      '--json',
    );
    expect(evaluate.code).toBe(0);
    const result = JSON.parse(evaluate.stdout) as Record<string, unknown> & {
      perImage: Record<string, unknown>[];
    };
    expect(Object.keys(result)).toEqual([
      'model',
      'split',
      'images',
      'dice',
      'iou',
      'precision',
      'recall',
      'specificity',
      'perImage',
    ]);
    expect(result).toMatchObject({ model: 'v1', split: 'test', images: 3 });
    expect(Object.keys(result.perImage[0])).toEqual(['image', 'dice', 'iou']);
    expect(result.perImage.map((row) => row.image)).toEqual([
      'Images/disc_9.png',
      'Images/disc_10.png',
      'Images/disc_11.png',
    ]);
    // Three CLI processes, each starting its worker cold: more than 180 s at a load average of
    // 21.3 in the flake audit (timed out), so the guard is 3 times that (test/FLAKE-AUDIT.md).
  }, 540_000);

  it('refuses a configuration too big for wasm with a one-line reason', async () => {
    const project = await discProject(2, 1);
    const run = await qataseg(
      'train',
      '--project',
      project.dir,
      '--size',
      '512',
      '--base',
      '32',
      '--batch',
      '8',
      '--backend',
      'wasm',
    );
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(
      /needs about [\d.]+ GiB; the wasm backend can address 4\.0 GiB: use --/,
    );
    // One CLI process that starts its worker: more than 60 s at a load average of 21.3 in the
    // flake audit (timed out), so the guard is 3 times that (test/FLAKE-AUDIT.md).
  }, 180_000);
});
