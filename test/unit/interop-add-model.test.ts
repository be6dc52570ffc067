/**
 * External ONNX models as versions, made by an independent tool (onnx.helper in Debian's python3,
 * test/fixtures/python/make_onnx.py): a 3-channel NHWC net with logits out at native resolution,
 * and a 1-channel NCHW net with a fixed batch of 1 and two softmax classes, overlap-tiled. Both are
 * 1x1 convolutions, so every stored probability is checked against its closed form. Added with
 * `qataseg add-model`, they predict, evaluate on the locked test split, compare with a trained
 * version, feed "what changed", list in `qataseg models`; a graph that does not fit its config is
 * refused with the reason, and without a config the shapes are shown and the user asked.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readImagePixels } from '../../src/core/ml/data';
import { latestPrediction, revisionPixels } from '../../src/core/project/masks';
import { imageAbsolutePath, queryImages } from '../../src/core/project/images';
import { ProjectStore } from '../../src/core/project/store';
import type { ModelSummary } from '../../src/shared/contract-ml';
import { python, qataseg, qatasegWithInput, trainedProject, withService } from './interop-fixtures';
import { tempDir } from './project-fixtures';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

let project: Awaited<ReturnType<typeof trainedProject>>;
let models: string;
let nhwc: string;
let softmax: string;

function writeConfig(name: string, config: unknown): string {
  const file = path.join(models, name);
  fs.writeFileSync(file, JSON.stringify(config));
  return file;
}

const NHWC_CONFIG = {
  input: { layout: 'NHWC', channels: 3, size: 'dynamic', scaling: '0..1' },
  output: { activation: 'logits', classes: 1 },
};
const SOFTMAX_CONFIG = {
  input: { layout: 'NCHW', channels: 1, size: 32, mode: 'tile', scaling: '-1..1' },
  output: { activation: 'probabilities', classes: 2, foreground: 1 },
};

/** Largest difference between every stored prediction of `version` and `expected(v)` per pixel. */
async function largestDeviation(version: string, expected: (v: number) => number) {
  const store = ProjectStore.open(project.dir);
  try {
    let largest = 0;
    let foreground = 0;
    for (const image of queryImages(store.db)) {
      const stored = latestPrediction(store.db, image.id, version);
      expect(stored, `${version} predicted ${image.relPath}`).not.toBeNull();
      const pixels = await revisionPixels(store.db, stored!.id);
      const gray = await readImagePixels(imageAbsolutePath(image));
      for (let i = 0; i < pixels.length; i++) {
        largest = Math.max(largest, Math.abs(pixels[i] - Math.round(expected(gray.data[i]) * 255)));
        if (pixels[i] >= 128) foreground++;
      }
    }
    return { largest, foreground };
  } finally {
    store.close();
  }
}

beforeAll(async () => {
  project = await trainedProject();
  models = tempDir('onnx-models');
  nhwc = path.join(models, 'nhwc3.onnx');
  softmax = path.join(models, 'softmax2.onnx');
  await python('make_onnx.py', 'nhwc3', nhwc);
  await python('make_onnx.py', 'softmax2', softmax, '32');
}, 240_000);

describe('qataseg add-model', () => {
  it('adds an NHWC 3-channel logits model that predicts, evaluates, compares and feeds what-changed', async () => {
    const added = await qataseg(
      'add-model',
      nhwc,
      '--project',
      project.dir,
      '--config',
      writeConfig('nhwc.json', NHWC_CONFIG),
      '--name',
      'bright',
      '--json',
    );
    expect(added.code, added.stderr).toBe(0);
    const result = JSON.parse(added.stdout) as { version: string; testImages: number };
    expect(result).toMatchObject({ version: 'bright', testImages: 3 });

    // The active v1 predicts first, so the external version's predictions have a reference.
    for (const model of ['v1', 'bright']) {
      const predicted = await qataseg('predict', '--project', project.dir, '--model', model);
      expect(predicted.code, predicted.stderr).toBe(0);
      expect(predicted.stdout).toContain(`${model}: 11 predictions stored`);
    }
    const deviation = await largestDeviation('bright', (v) => sigmoid((20 * v) / 255 - 10));
    expect(deviation.largest).toBeLessThanOrEqual(1);
    expect(deviation.foreground).toBeGreaterThan(0);

    const evaluated = await qataseg(
      'evaluate',
      '--project',
      project.dir,
      '--model',
      'bright',
      '--json',
    );
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const evaluation = JSON.parse(evaluated.stdout) as { images: number; dice: number };
    expect(evaluation.images).toBe(3);
    // Bright discs on a darker background: the closed-form threshold finds them.
    expect(evaluation.dice).toBeGreaterThan(0.8);

    const listed = await qataseg('models', '--project', project.dir, '--json');
    const list = JSON.parse(listed.stdout) as ModelSummary[];
    expect(list.find((m) => m.version === 'bright')).toMatchObject({
      source: 'onnx',
      origin: nhwc,
      backend: 'onnxruntime',
      input: 'dynamic native',
      bytes: fs.statSync(nhwc).size,
      testDice: evaluation.dice,
      active: false,
    });
    expect(list.find((m) => m.version === 'v1')).toMatchObject({ source: 'trained', active: true });
    const table = await qataseg('models', '--project', project.dir);
    expect(table.stdout).toMatch(/bright\s+onnx\s+dynamic native/);

    await withService(project.dir, async (service) => {
      const card = await service.invoke('models.get', { version: 'bright' });
      expect(card.source).toMatchObject({
        kind: 'onnx',
        path: nhwc,
        sha256: createHash('sha256').update(fs.readFileSync(nhwc)).digest('hex'),
        config: { input: { layout: 'NHWC', channels: 3 } },
      });
      expect(card.architecture).toBeNull();
      const comparison = await service.invoke('models.compare', { a: 'v1', b: 'bright' });
      expect(comparison.sameTestSplit).toBe(true);
      expect(comparison.perImage).toHaveLength(3);
      expect(comparison.splits.test.b?.dice).toBe(evaluation.dice);

      // Promoted, its predictions are the worklist's and "what changed" measures them against v1.
      await service.invoke('models.promote', { version: 'bright' });
      const queue = await service.invoke('images.list', { sort: 'changed', direction: 'desc' });
      expect(queue.items.length).toBe(11);
      expect(queue.items.every((item) => item.changed !== null)).toBe(true);
      expect(queue.items[0].changed).toBeGreaterThan(0);
    });
  }, 240_000);

  it('overlap-tiles a batch-1 NCHW model and takes the foreground class of its softmax', async () => {
    const added = await qataseg(
      'add-model',
      softmax,
      '--project',
      project.dir,
      '--config',
      writeConfig('softmax.json', SOFTMAX_CONFIG),
      '--json',
    );
    expect(added.code, added.stderr).toBe(0);
    const { version } = JSON.parse(added.stdout) as { version: string };
    expect(version).toBe('v2');
    const predicted = await qataseg('predict', '--project', project.dir, '--model', version);
    expect(predicted.code, predicted.stderr).toBe(0);
    const deviation = await largestDeviation(version, (v) => sigmoid(20 * ((2 * v) / 255 - 1)));
    expect(deviation.largest).toBeLessThanOrEqual(1);
  }, 120_000);

  it('refuses a graph that does not fit its config, with the reason, and writes nothing', async () => {
    const before = fs.readdirSync(path.join(project.dir, 'models')).sort();
    const wrongLayout = await qataseg(
      'add-model',
      nhwc,
      '--project',
      project.dir,
      '--config',
      writeConfig('wrong-layout.json', {
        ...NHWC_CONFIG,
        input: { ...NHWC_CONFIG.input, layout: 'NCHW', channels: 1 },
      }),
    );
    expect(wrongLayout.code).toBe(2);
    expect(wrongLayout.stderr).toContain("input 'pixels' [N, H, W, 3]");
    expect(wrongLayout.stderr).toMatch(/is the layout NHWC\?/);

    const wrongClasses = await qataseg(
      'add-model',
      softmax,
      '--project',
      project.dir,
      '--config',
      writeConfig('wrong-classes.json', {
        ...SOFTMAX_CONFIG,
        output: { activation: 'logits', classes: 1 },
      }),
    );
    expect(wrongClasses.code).toBe(2);
    expect(wrongClasses.stderr).toMatch(/axis 1 \(channels, NCHW\) is 2, but the config says 1/);

    const wrongSize = await qataseg(
      'add-model',
      softmax,
      '--project',
      project.dir,
      '--config',
      writeConfig('wrong-size.json', {
        ...SOFTMAX_CONFIG,
        input: { ...SOFTMAX_CONFIG.input, size: 64 },
      }),
    );
    expect(wrongSize.code).toBe(2);
    expect(wrongSize.stderr).toMatch(/its height \(NCHW\) is 32, but the config says 64/);

    const notOnnx = path.join(models, 'not-a-model.onnx');
    fs.writeFileSync(notOnnx, 'these bytes are text, not a protobuf model');
    const garbage = await qataseg(
      'add-model',
      notOnnx,
      '--project',
      project.dir,
      '--config',
      writeConfig('any.json', NHWC_CONFIG),
    );
    expect(garbage.code).toBe(2);
    expect(garbage.stderr).toMatch(/not an ONNX model/);

    const taken = await qataseg(
      'add-model',
      nhwc,
      '--project',
      project.dir,
      '--config',
      writeConfig('nhwc.json', NHWC_CONFIG),
      '--name',
      'v1',
    );
    expect(taken.code).toBe(2);
    expect(taken.stderr).toMatch(/a model version v1 exists already/);
    expect(fs.readdirSync(path.join(project.dir, 'models')).sort()).toEqual(before);
  }, 120_000);

  it('without a config shows the graph shapes and asks instead of guessing', async () => {
    const refused = await qataseg('add-model', nhwc, '--project', project.dir, '--json');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("input  'pixels' float [N, H, W, 3]");
    expect(refused.stderr).toContain("output 'logits' float [N, H, W, 1]");
    const shown = JSON.parse(refused.stdout) as {
      needsConfig: boolean;
      graph: { inputs: { dims: unknown[] }[] };
    };
    expect(shown.needsConfig).toBe(true);
    expect(shown.graph.inputs[0].dims).toEqual(['N', 'H', 'W', 3]);

    // A bad answer is asked again; the rest are the choices a user types.
    const answers = ['NHWC', '3', 'dynamic', '1', 'unit', '0..1', 'logits', '1'].join('\n');
    const asked = await qatasegWithInput(
      `${answers}\n`,
      'add-model',
      nhwc,
      '--project',
      project.dir,
      '--ask',
      '--name',
      'asked',
    );
    expect(asked.code, asked.stderr).toBe(0);
    expect(asked.stderr).toContain('not one of the choices');
    expect(asked.stdout).toMatch(/^asked: added from .*nhwc3\.onnx; test Dice/);
  }, 120_000);

  it('scales by z-score per image or mean/std per channel and pads native images to a multiple', async () => {
    const sigmoid3 = path.join(models, 'sigmoid3.onnx');
    await python('make_onnx.py', 'sigmoid3', sigmoid3);
    const base = { layout: 'NCHW', channels: 3, size: 'dynamic', multiple: 32 };
    const output = { activation: 'probabilities', classes: 1 };
    for (const [name, input] of [
      ['zscore', { ...base, scaling: 'z-score' }],
      ['meanstd', { ...base, scaling: 'mean-std', mean: [0.1, 0.2, 0.5], std: [1, 1, 0.25] }],
    ] as const) {
      const added = await qataseg(
        'add-model',
        sigmoid3,
        '--project',
        project.dir,
        '--config',
        writeConfig(`${name}.json`, { input, output }),
        '--name',
        name,
      );
      expect(added.code, added.stderr).toBe(0);
      const predicted = await qataseg('predict', '--project', project.dir, '--model', name);
      expect(predicted.code, predicted.stderr).toBe(0);
    }
    // Channel 2 of mean-std: (v / 255 - 0.5) / 0.25.
    const meanStd = await largestDeviation('meanstd', (v) => sigmoid((v / 255 - 0.5) / 0.25));
    expect(meanStd.largest).toBeLessThanOrEqual(1);
    // z-score with the statistics of each image (48x40, padded to 64x64 and cropped back).
    const store = ProjectStore.open(project.dir);
    try {
      let largest = 0;
      for (const image of queryImages(store.db)) {
        const gray = await readImagePixels(imageAbsolutePath(image));
        const x = Array.from(gray.data, (v) => v / 255);
        const mean = x.reduce((a, b) => a + b, 0) / x.length;
        const std = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length);
        const pixels = await revisionPixels(
          store.db,
          latestPrediction(store.db, image.id, 'zscore')!.id,
        );
        for (let i = 0; i < x.length; i++)
          largest = Math.max(
            largest,
            Math.abs(pixels[i] - Math.round(sigmoid((x[i] - mean) / std) * 255)),
          );
      }
      expect(largest).toBeLessThanOrEqual(1);
    } finally {
      store.close();
    }
  }, 180_000);

  it('takes back a version exported by qataseg export-model with its model.json as the config', async () => {
    const out = tempDir('round-trip');
    const file = path.join(out, 'model.onnx');
    const exported = await qataseg(
      'export-model',
      '--project',
      project.dir,
      '--model',
      'v1',
      '--out',
      file,
    );
    expect(exported.code, exported.stderr).toBe(0);
    const added = await qataseg(
      'add-model',
      file,
      '--project',
      project.dir,
      '--config',
      path.join(out, 'model.json'),
      '--name',
      'v1-back',
      '--json',
    );
    expect(added.code, added.stderr).toBe(0);
    const list = JSON.parse(
      (await qataseg('models', '--project', project.dir, '--json')).stdout,
    ) as ModelSummary[];
    const original = list.find((m) => m.version === 'v1')!;
    const back = list.find((m) => m.version === 'v1-back')!;
    expect(back.input).toBe('32x32 resize');
    expect(back.testDice).toBeCloseTo(original.testDice!, 6);

    // An external version exports its own file, with its config as model.json.
    const again = path.join(tempDir('round-trip'), 'bright.onnx');
    const external = await qataseg(
      'export-model',
      '--project',
      project.dir,
      '--model',
      'bright',
      '--out',
      again,
    );
    expect(external.code, external.stderr).toBe(0);
    expect(fs.readFileSync(again).equals(fs.readFileSync(nhwc))).toBe(true);
    const described = JSON.parse(
      fs.readFileSync(path.join(path.dirname(again), 'model.json'), 'utf8'),
    ) as {
      input: { layout: string; channels: number };
      origin: { path: string };
    };
    expect(described).toMatchObject({
      input: { layout: 'NHWC', channels: 3 },
      origin: { path: nhwc },
    });
  }, 120_000);
});
