/**
 * `qataseg export-model` as a user runs it: the file passes the onnx package's checker with
 * full_check (Debian's python3-onnx, not our code), declares float32 NCHW [batch, 1, H, W] in and
 * out with only standard operators, and onnxruntime-node running the file on the test split gives
 * the probabilities of the model of record (tfjs) within 1e-4 and the masks `qataseg predict`
 * stored. model.json describes the input, output, training and test figures.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { readImagePixels, resizeGray } from '../../src/core/ml/data';
import { loadModel } from '../../src/core/ml/model-io';
import { probabilitiesToBytes, toUnitFloat } from '../../src/core/ml/trainer';
import { latestPrediction, revisionPixels, trainingPairs } from '../../src/core/project/masks';
import { ProjectStore } from '../../src/core/project/store';
import { python, qataseg, trainedProject } from './interop-fixtures';
import { tempDir } from './project-fixtures';

const SIZE = 32;

let project: Awaited<ReturnType<typeof trainedProject>>;

beforeAll(async () => {
  project = await trainedProject();
  await tf.setBackend('cpu');
}, 240_000);

describe('qataseg export-model', () => {
  it('writes an ONNX file that onnx.checker accepts and that predicts what the project predicts', async () => {
    const out = tempDir('export-model');
    const file = path.join(out, 'unet.onnx');
    const exported = await qataseg(
      'export-model',
      '--project',
      project.dir,
      '--out',
      file,
      '--json',
    );
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    const result = JSON.parse(exported.stdout) as { version: string; bytes: number };
    expect(result.version).toBe('v1');
    expect(fs.statSync(file).size).toBe(result.bytes);

    const checked = JSON.parse(await python('onnx_check.py', file)) as {
      checked: boolean;
      opsets: Record<string, number>;
      inputs: { name: string; elemType: number; dims: (number | string)[] }[];
      outputs: { name: string; elemType: number; dims: (number | string)[] }[];
      domains: string[];
      operators: string[];
    };
    expect(checked.checked).toBe(true);
    expect(checked.opsets).toEqual({ 'ai.onnx': 17 });
    expect(checked.domains).toEqual(['ai.onnx']);
    expect(checked.operators).not.toContain('FusedMatMul');
    // float32 (elem type 1), NCHW with a named (dynamic) batch dimension.
    expect(checked.inputs).toEqual([
      { name: 'image', elemType: 1, dims: ['batch', 1, SIZE, SIZE] },
    ]);
    expect(checked.outputs).toEqual([
      { name: 'probabilities', elemType: 1, dims: ['batch', 1, SIZE, SIZE] },
    ]);

    const description = JSON.parse(
      fs.readFileSync(path.join(out, 'model.json'), 'utf8'),
    ) as unknown;
    expect(description).toMatchObject({
      version: 'v1',
      file: { name: 'unet.onnx', bytes: result.bytes },
      input: { layout: 'NCHW', channels: 1, size: [SIZE, SIZE], scaling: '0..1', mode: 'resize' },
      output: { activation: 'probabilities', classes: 1, threshold: 0.5 },
      network_data_format: {
        inputs: { image: { num_channels: 1, spatial_shape: [SIZE, SIZE], dtype: 'float32' } },
        outputs: { probabilities: { num_channels: 1, value_range: [0, 1] } },
      },
      training: { engine: 'onnxruntime', data: { train: 7, test: 3 } },
      metrics: { test: { images: 3 } },
    });

    const predicted = await qataseg(
      'predict',
      '--project',
      project.dir,
      '--backend',
      'onnxruntime',
    );
    expect(predicted.code).toBe(0);

    // The exported file in a fresh onnxruntime session, a batch of the whole test split at once
    // (the batch dimension is dynamic), against tfjs's model of record and the stored predictions.
    const store = ProjectStore.open(project.dir);
    const session = await ort.InferenceSession.create(file);
    const model = await loadModel(tf, path.join(project.dir, 'models', 'v1'));
    try {
      const pairs = trainingPairs(store.db, {
        splits: ['test'],
        sources: ['ground-truth', 'accepted', 'corrected'],
      });
      expect(pairs).toHaveLength(3);
      const images = await Promise.all(pairs.map((pair) => readImagePixels(pair.imagePath)));
      const inputs = await Promise.all(
        images.map(async (image) =>
          toUnitFloat(
            await resizeGray(image.data, image.width, image.height, SIZE, SIZE, 'linear'),
          ),
        ),
      );
      const batch = new Float32Array(inputs.length * SIZE * SIZE);
      inputs.forEach((input, index) => batch.set(input, index * SIZE * SIZE));
      const output = await session.run({
        image: new ort.Tensor('float32', batch, [inputs.length, 1, SIZE, SIZE]),
      });
      const fromFile = output.probabilities.data as Float32Array;
      const reference = tf.tidy(() =>
        (model.predict(tf.tensor4d(batch, [inputs.length, SIZE, SIZE, 1])) as tf.Tensor).dataSync(),
      );
      let largest = 0;
      for (let i = 0; i < reference.length; i++)
        largest = Math.max(largest, Math.abs(fromFile[i] - reference[i]));
      expect(largest).toBeLessThan(1e-4);
      console.log(
        `export-model: the file on onnxruntime vs tfjs, largest difference ${largest.toExponential(2)}`,
      );

      for (const [index, pair] of pairs.entries()) {
        const image = images[index];
        const probabilities = fromFile.slice(index * SIZE * SIZE, (index + 1) * SIZE * SIZE);
        const back = await resizeGray(
          probabilitiesToBytes(probabilities),
          SIZE,
          SIZE,
          image.width,
          image.height,
          'linear',
        );
        const stored = latestPrediction(store.db, pair.imageId, 'v1');
        expect(stored).not.toBeNull();
        const storedPixels = await revisionPixels(store.db, stored!.id);
        // The 8-bit maps themselves (not only the masks, which a weak model may leave empty).
        let step = 0;
        for (let i = 0; i < back.length; i++)
          step = Math.max(step, Math.abs(back[i] - storedPixels[i]));
        expect(step).toBeLessThanOrEqual(1);
        expect(Array.from(back, (p) => p >= 128)).toEqual(
          Array.from(storedPixels, (p) => p >= 128),
        );
      }
    } finally {
      model.dispose();
      await session.release();
      store.close();
    }
  }, 180_000);

  it('refuses to replace an exported file without --overwrite, and to write into a dataset', async () => {
    const out = tempDir('export-model');
    const file = path.join(out, 'model.onnx');
    expect((await qataseg('export-model', '--project', project.dir, '--out', file)).code).toBe(0);
    const before = fs.readFileSync(path.join(out, 'model.json'), 'utf8');
    const again = await qataseg('export-model', '--project', project.dir, '--out', file);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/refusing to replace .*model\.onnx/);
    expect(fs.readFileSync(path.join(out, 'model.json'), 'utf8')).toBe(before);
    const intoDataset = await qataseg(
      'export-model',
      '--project',
      project.dir,
      '--out',
      path.join(project.root, 'models', 'model.onnx'),
    );
    expect(intoDataset.code).toBe(2);
    expect(intoDataset.stderr).toMatch(/is inside the dataset folder/);
    expect(fs.existsSync(path.join(project.root, 'models'))).toBe(false);
    const forced = await qataseg(
      'export-model',
      '--project',
      project.dir,
      '--out',
      file,
      '--overwrite',
    );
    expect(forced.code).toBe(0);
  }, 120_000);
});
