import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { importReportSchema } from '../../src/shared/dataset-schemas';
import { tempDir } from './project-fixtures';

const run = promisify(execFile);
const BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'qataseg.mjs');

async function qataseg(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('qataseg demo and import', () => {
  it('writes phantoms, imports them with a JSON report, and refuses a missing folder in one line', async () => {
    const out = path.join(tempDir('cli'), 'demo');
    const project = tempDir('cli-project');
    const demo = await qataseg('demo', '--out', out, '--count', '6', '--seed', '4', '--size', '32');
    expect(demo.code).toBe(0);
    expect(demo.stdout).toMatch(/Wrote 6 phantoms/);

    const imported = await qataseg('import', out, '--project', project, '--json');
    expect(imported.code).toBe(0);
    const report = importReportSchema.strict().parse(JSON.parse(imported.stdout));
    expect(report).toMatchObject({ pairs: 6, imagesWithoutMask: 0, orphanMasks: 0, skipped: [] });
    expect(report.splits.train + report.splits.test).toBe(6);
    expect(report.splits.test).toBeGreaterThan(0);

    const missing = await qataseg('import', path.join(out, 'nope'), '--project', project);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/dataset folder not found/);
  });
});
