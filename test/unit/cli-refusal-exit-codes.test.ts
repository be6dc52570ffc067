/**
 * The README's exit codes: 2 when a command is refused and nothing changed. `import-predictions`
 * whose files pair by name but none can be used, and `add-model` of a model onnxruntime cannot
 * load, exited 1 (failed) though the project was left as it was.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { python, qataseg } from './interop-fixtures';
import { tempDir } from './project-fixtures';

let base: string;
let project: string;

beforeAll(async () => {
  base = tempDir('exit-codes');
  project = path.join(base, 'project');
  const made = await qataseg(
    'demo',
    '--out',
    path.join(base, 'dataset'),
    '--count',
    '4',
    '--size',
    '32',
    '--project',
    project,
  );
  expect(made.code, made.stderr).toBe(0);
}, 120_000);

afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

describe('refusals exit 2', () => {
  it('import-predictions whose only prediction cannot be used exits 2 and adds no version', async () => {
    const listed = await qataseg('models', '--project', project, '--json');
    const folder = path.join(base, 'predictions');
    fs.mkdirSync(folder);
    const image = fs
      .readdirSync(path.join(base, 'dataset'), { recursive: true, encoding: 'utf8' })
      .find((file) => /\.png$/i.test(file) && !/mask/i.test(file))!;
    // Named like an image of the project, but not a PNG inside.
    fs.writeFileSync(path.join(folder, path.basename(image)), 'not a png');
    const result = await qataseg(
      'import-predictions',
      folder,
      '--project',
      project,
      '--name',
      'nothing',
    );
    expect(result.code, result.stderr).toBe(2);
    expect(fs.existsSync(path.join(project, 'models', 'nothing'))).toBe(false);
    const after = await qataseg('models', '--project', project, '--json');
    expect(after.stdout).toBe(listed.stdout);
  }, 120_000);

  it('add-model of a model onnxruntime cannot load exits 2, naming the operator', async () => {
    const file = path.join(base, 'unknown.onnx');
    await python('make_onnx.py', 'unknownop', file);
    const config = path.join(base, 'config.json');
    fs.writeFileSync(
      config,
      JSON.stringify({
        input: { layout: 'NHWC', channels: 3, size: 'dynamic', scaling: '0..1' },
        output: { activation: 'logits', classes: 1 },
      }),
    );
    const result = await qataseg(
      'add-model',
      file,
      '--project',
      project,
      '--config',
      config,
      '--name',
      'unknown',
    );
    expect(result.stderr).toMatch(/NoSuchOperator/);
    expect(result.code, result.stderr).toBe(2);
    expect(fs.existsSync(path.join(project, 'models', 'unknown'))).toBe(false);
  }, 120_000);

  it('add-model --config /dev/zero is refused as not a regular file, exit 2', async () => {
    const file = path.join(base, 'unknown.onnx');
    if (!fs.existsSync(file)) await python('make_onnx.py', 'unknownop', file);
    const result = await qataseg('add-model', file, '--project', project, '--config', '/dev/zero');
    expect(result.stderr).toMatch(/not a regular file \(a character device\)/);
    expect(result.code, result.stderr).toBe(2);
  }, 60_000);
});
