/**
 * Helpers of the research interop tests: the real `qataseg` command, Debian's python3 with its
 * onnx / nibabel / numpy modules (tools that are not ours), and a small trained project.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { createService, type Service } from '../../src/core/service';
import { discProject } from './ml-fixtures';

const bin = path.resolve(import.meta.dirname, '../../bin/qataseg.mjs');
const execFileAsync = promisify(execFile);
export const PYTHON = '/usr/bin/python3';
export const PYTHON_FIXTURES = path.resolve(import.meta.dirname, '../fixtures/python');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(file: string, args: string[], input?: string): Promise<Run> {
  try {
    const child = execFileAsync(file, args, { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    if (input !== undefined) {
      child.child.stdin?.end(input);
    }
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

export function qataseg(...args: string[]): Promise<Run> {
  return run(process.execPath, [bin, ...args]);
}

/** qataseg with `input` on its stdin. */
export function qatasegWithInput(input: string, ...args: string[]): Promise<Run> {
  return run(process.execPath, [bin, ...args], input);
}

/** Runs a script of test/fixtures/python with Debian's python3; throws with its stderr on failure. */
export async function python(script: string, ...args: string[]): Promise<string> {
  const result = await run(PYTHON, [path.join(PYTHON_FIXTURES, script), ...args]);
  if (result.code !== 0) throw new Error(`${script} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

/** A disc project with a version v1 trained for one epoch on onnxruntime (32 px, base 4). */
export async function trainedProject(train = 8, test = 3, extra: string[] = []) {
  const project = await discProject(train, test);
  const trained = await qataseg(
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
    'onnxruntime',
    ...extra,
  );
  if (trained.code !== 0) throw new Error(`training failed: ${trained.stderr}`);
  return project;
}

/**
 * Runs `use` with a service on the project in this process, closed after: the open service holds
 * the project's write lock, and `qataseg` waits its turn while it is held.
 */
export async function withService<T>(projectDir: string, use: (service: Service) => Promise<T>) {
  const service = createService({ transport: 'http', backend: 'onnxruntime', projectDir });
  try {
    return await use(service);
  } finally {
    service.close();
  }
}
