/**
 * The add-model form fills itself from the model.json beside an ONNX file: its config when it is
 * one, the reason when it is not, nothing when there is none; a directory or a huge file named
 * model.json is refused without being read.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readConfigBeside } from '../../src/core/ml/external/add-model';

const dirs: string[] = [];
function folder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-beside-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const config = {
  input: { layout: 'NCHW', channels: 1, size: 256, mode: 'resize', scaling: '0..1' },
  output: { activation: 'probabilities', classes: 1 },
};

describe('the model.json beside an ONNX file', () => {
  it('is read as the config the file describes', async () => {
    const dir = folder();
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ version: 'v1', ...config }));
    const beside = await readConfigBeside(path.join(dir, 'unet.onnx'));
    expect(beside?.file).toBe(path.join(dir, 'model.json'));
    expect(beside?.problem).toBeNull();
    expect(beside?.config?.input).toMatchObject({ layout: 'NCHW', size: 256 });
  });

  it('is absent, or named with why it cannot be used', async () => {
    const dir = folder();
    expect(await readConfigBeside(path.join(dir, 'unet.onnx'))).toBeNull();
    fs.writeFileSync(path.join(dir, 'model.json'), '{"input": {"layout": "NCWH"}}');
    expect((await readConfigBeside(path.join(dir, 'unet.onnx')))?.problem).toMatch(/input\.layout/);
    fs.rmSync(path.join(dir, 'model.json'));
    fs.mkdirSync(path.join(dir, 'model.json'));
    expect((await readConfigBeside(path.join(dir, 'unet.onnx')))?.problem).toBe(
      'it is not a regular file',
    );
    fs.rmdirSync(path.join(dir, 'model.json'));
    fs.writeFileSync(path.join(dir, 'model.json'), Buffer.alloc(2 * 1024 * 1024, 32));
    expect((await readConfigBeside(path.join(dir, 'unet.onnx')))?.problem).toMatch(
      /not a model description/,
    );
  });
});
