/**
 * `qataseg` run from a folder that is not the repository (issue 11 item 20): the CLI and the ML
 * worker it forks resolve their own packages (tsx) from the installation, not from the cwd.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { discProject } from './ml-fixtures';

const bin = path.resolve(import.meta.dirname, '../../bin/qataseg.mjs');
const execFileAsync = promisify(execFile);

describe('qataseg from another working directory', () => {
  it('trains a tiny model with the cwd in a temp folder', async () => {
    const project = await discProject(4, 1);
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-cwd-'));
    const { stdout } = await execFileAsync(
      process.execPath,
      [
        bin,
        'train',
        '--project',
        project.dir,
        '--epochs',
        '1',
        '--size',
        '32',
        '--base',
        '4',
        '--backend',
        'cpu',
        '--json',
      ],
      { cwd, encoding: 'utf8' },
    );
    const last = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    expect(last).toMatchObject({ event: 'end', state: 'succeeded', version: 'v1' });
    expect(fs.readdirSync(cwd)).toEqual([]);
  });
});
