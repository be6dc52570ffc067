/**
 * A model version out as a standalone ONNX file for other tools (onnxruntime, MONAI, PyTorch
 * users): the inference graph of ./unet-graph.ts with the version's weights as initializers
 * (standard ONNX operators only, opset 17), float32 NCHW [N, 1, H, W] with a dynamic batch and
 * sigmoid probabilities out. Beside it `model.json` says what a user of the file must do around it,
 * in the spirit of a MONAI bundle's `network_data_format`; its `input` and `output` blocks are the
 * config `qataseg add-model` reads, so an exported model comes back in as it went out.
 *
 * Weights are read from the saved tfjs model (model.json + weights.bin) without loading tfjs, so
 * the host exports without the ML worker.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../../shared/contract';
import type { ModelCard } from '../../../shared/contract-ml';
import type { ExportModelResult, ExternalModelConfig } from '../../../shared/interop-schemas';
import { isInside } from '../../formats/names';
import { listDatasets } from '../../project/datasets';
import type { ProjectStore } from '../../project/store';
import { MODEL_FILE, WEIGHTS_FILE } from '../model-io';
import { EXTERNAL_MODEL_FILE, getCard, resolveVersion, versionDir } from '../versions';
import { appPackage } from '../../app-package';
import { describeFsError } from '../../fs-errors';
import { assertWritableOutput, makeFoldersSync, resolveUserPath } from '../../guarded-files';
import { OPSET } from './graph';
import { buildInferenceGraph, kernelToOnnx, unetParams } from './unet-graph';

export const DESCRIPTION_FILE = 'model.json';
export const INPUT_NAME = 'image';
export const OUTPUT_NAME = 'probabilities';

interface WeightsManifest {
  weightsManifest: {
    paths: string[];
    weights: { name: string; shape: number[]; dtype: string }[];
  }[];
}

/** The saved tfjs weights of a version folder, by `${layer}/${weight}`, in tfjs layout. */
export function readSavedWeights(modelDir: string): Map<string, Float32Array> {
  const file = path.join(modelDir, MODEL_FILE);
  if (!fs.existsSync(file)) throw new ApiError('not-found', `no saved model in ${modelDir}`);
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as WeightsManifest;
  const weights = new Map<string, Float32Array>();
  for (const group of manifest.weightsManifest) {
    const data = Buffer.concat(group.paths.map((p) => fs.readFileSync(path.join(modelDir, p))));
    let offset = 0;
    for (const spec of group.weights) {
      if (spec.dtype !== 'float32')
        throw new ApiError('bad-request', `weight ${spec.name} is ${spec.dtype}, not float32`);
      const count = spec.shape.reduce((a, b) => a * b, 1);
      if (offset + count * 4 > data.length)
        throw new ApiError('internal', `${WEIGHTS_FILE} is shorter than its manifest`);
      // Copied: a Buffer's offset into its pool need not be 4-byte aligned.
      const values = new Float32Array(count);
      Buffer.from(values.buffer).set(data.subarray(offset, offset + count * 4));
      weights.set(spec.name, values);
      offset += count * 4;
    }
  }
  return weights;
}

/** The version's U-Net weights in ONNX layout, checked against the architecture on its card. */
function onnxWeights(modelDir: string, base: number): Map<string, Float32Array> {
  const saved = readSavedWeights(modelDir);
  const out = new Map<string, Float32Array>();
  for (const spec of unetParams(base)) {
    const data = saved.get(spec.key);
    const expected = spec.tfjsShape.reduce((a, b) => a * b, 1);
    if (!data || data.length !== expected)
      throw new ApiError('internal', `the saved model has no weight ${spec.key} of ${expected}`);
    out.set(spec.key, spec.kind === 'kernel' ? kernelToOnnx(data, spec.tfjsShape) : data);
  }
  return out;
}

/** A card of a U-Net trained here. */
type TrainedCard = ModelCard & { architecture: NonNullable<ModelCard['architecture']> };

/** The config `qataseg add-model` would need for this version's exported file. */
export function exportedConfig(card: TrainedCard): ExternalModelConfig {
  const size = card.architecture.size;
  return {
    input: {
      name: INPUT_NAME,
      layout: 'NCHW',
      channels: 1,
      size: [size, size],
      mode: card.input.mode,
      multiple: 1,
      scaling: '0..1',
    },
    output: {
      name: OUTPUT_NAME,
      activation: 'probabilities',
      classes: 1,
      foreground: 0,
      threshold: 0.5,
    },
  };
}

/** model.json: what a user of the .onnx file must do around it, and what the version is. */
export function describeModel(
  card: TrainedCard,
  file: { name: string; bytes: number; sha256: string },
) {
  const size = card.architecture.size;
  const tile = card.input.mode === 'tile';
  const config = exportedConfig(card);
  return {
    format: 'qataseg-model-description',
    formatVersion: 1,
    name: `qataseg-unet-${card.version}`,
    version: card.version,
    task: 'binary segmentation of infection in chest X-ray images',
    exportedAt: new Date().toISOString(),
    producer: { name: appPackage.name, version: appPackage.version },
    file: { name: file.name, bytes: file.bytes, sha256: file.sha256 },
    onnx: {
      irVersion: 8,
      opsets: [{ domain: 'ai.onnx', version: OPSET }],
      input: INPUT_NAME,
      output: OUTPUT_NAME,
    },
    ...config,
    network_data_format: {
      inputs: {
        [INPUT_NAME]: {
          type: 'image',
          format: 'magnitude',
          modality: 'chest X-ray',
          num_channels: 1,
          spatial_shape: [size, size],
          dtype: 'float32',
          value_range: [0, 1],
          is_patch_data: tile,
          channel_def: { '0': 'image' },
          layout: 'NCHW',
          batch: 'dynamic',
        },
      },
      outputs: {
        [OUTPUT_NAME]: {
          type: 'probabilities',
          format: 'segmentation',
          num_channels: 1,
          spatial_shape: [size, size],
          dtype: 'float32',
          value_range: [0, 1],
          is_patch_data: tile,
          channel_def: { '0': 'infection' },
          layout: 'NCHW',
        },
      },
    },
    preprocessing: {
      decode:
        'to one 8-bit gray channel: colour to luminance, alpha flattened on black, 16-bit images stretched linearly from their minimum to their maximum',
      windowing: 'none beyond that stretch',
      input_mode: card.input.mode,
      resize: tile
        ? null
        : `bilinear to ${size}x${size} (aspect ratio not kept), as 8-bit values before scaling`,
      tile: tile
        ? `overlap-tile at native resolution: ${size}x${size} tiles overlapping by ${Math.floor(size / 4)} px, mirror padding, linear blending`
        : null,
      intensity_scaling: 'value / 255 (0..1)',
    },
    postprocessing: {
      probabilities: 'the output is already the sigmoid of the logits',
      resize_back: tile ? null : 'to the image size, bilinear',
      threshold: config.output.threshold,
      mask: `foreground where probability >= ${config.output.threshold}`,
    },
    architecture: card.architecture,
    training: {
      engine: card.backend,
      trainedAt: card.createdAt,
      parent: card.parent,
      epochs: card.history.length,
      bestEpoch: card.bestEpoch,
      hyperParameters: card.hyperParameters,
      data: card.data,
    },
    metrics: {
      threshold: 0.5,
      test: card.metrics.test,
      val: card.metrics.val,
      note: 'test: the project locked test split; val: held out of the train split',
    },
  };
}

/** The real path of the nearest existing ancestor, with the rest appended. */
function realPathOfExisting(target: string): string {
  const missing: string[] = [];
  let current = path.resolve(target);
  for (;;) {
    try {
      return path.join(fs.realpathSync(current), ...missing.reverse());
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return path.resolve(target);
      missing.push(path.basename(current));
      current = parent;
    }
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes through a temporary name, fsyncs and renames: never half a file under the final name. */
function writeDurably(file: string, data: Uint8Array | string): void {
  const temporary = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(temporary, 'w');
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, file);
}

/** The ONNX bytes of a trained version (the graph onnxruntime runs here, as a file). */
export function exportedGraph(modelDir: string, card: TrainedCard): Uint8Array {
  const { base, size } = card.architecture;
  const weights = onnxWeights(modelDir, base);
  return buildInferenceGraph({ base, dropout: 0 }, weights, { height: size, width: size });
}

/** A checked export: the version's card and folder, and the two files to write. */
export interface ModelExportPlan {
  card: ModelCard;
  modelDir: string;
  file: string;
  description: string;
}

/**
 * Checks an export before anything is written: the version exists and has a model, the file ends
 * in .onnx, and neither it nor model.json beside it exists (unless `overwrite`).
 */
export function planModelExport(
  store: ProjectStore,
  input: { version?: string; out: string; overwrite?: boolean },
): ModelExportPlan {
  const version = resolveVersion(store, input.version);
  const card = getCard(store, version);
  const source = card.source;
  if (source.kind === 'predictions')
    throw new ApiError(
      'bad-request',
      `${version} holds predictions imported from ${source.path}; there is no model to export`,
    );
  const file = resolveUserPath(input.out, store.dir);
  if (path.extname(file).toLowerCase() !== '.onnx')
    throw new ApiError('bad-request', `the output file must end in .onnx: ${file}`);
  const description = path.join(path.dirname(file), DESCRIPTION_FILE);
  assertWritableOutput(file);
  const folder = realPathOfExisting(path.dirname(file));
  for (const dataset of listDatasets(store.db)) {
    if (isInside(folder, realPathOfExisting(dataset.root)))
      throw new ApiError(
        'bad-request',
        `${file} is inside the dataset folder ${dataset.root}; choose a folder outside it (an export never writes into a dataset)`,
      );
  }
  if (isInside(folder, realPathOfExisting(store.dir)))
    throw new ApiError('bad-request', `${file} is inside the project folder ${store.dir}`);
  if (!input.overwrite) {
    const existing = [file, description].filter((f) => fs.existsSync(f));
    if (existing.length > 0)
      throw new ApiError(
        'conflict',
        `refusing to replace ${existing.join(' and ')} (use overwrite to replace)`,
      );
  }
  return { card, modelDir: versionDir(store, version), file, description };
}

/**
 * Writes a planned export: the ONNX file, then model.json. Builds the graph from the saved
 * weights (a second or two for a large U-Net: the host runs this in the ML worker).
 */
export function writeModelExport(plan: ModelExportPlan): ExportModelResult {
  const { card, file, description } = plan;
  const bytes = card.architecture
    ? exportedGraph(plan.modelDir, { ...card, architecture: card.architecture })
    : fs.readFileSync(path.join(plan.modelDir, EXTERNAL_MODEL_FILE));
  const digest = sha256(bytes);
  try {
    makeFoldersSync(path.dirname(file));
    writeDurably(file, bytes);
  } catch (error) {
    throw new Error(`cannot write ${file}: ${describeFsError(error)}`);
  }
  const written = { name: path.basename(file), bytes: bytes.length, sha256: digest };
  const described = card.architecture
    ? describeModel({ ...card, architecture: card.architecture }, written)
    : describeExternal(card, written);
  try {
    writeDurably(description, `${JSON.stringify(described, null, 2)}\n`);
  } catch (error) {
    throw new Error(`cannot write ${description}: ${describeFsError(error)}`);
  }
  const io = declaredShapes(card);
  return {
    version: card.version,
    file,
    description,
    bytes: bytes.length,
    sha256: digest,
    inputShape: io.input,
    outputShape: io.output,
  };
}

/** Plans and writes in this process (the CLI). */
export function exportModel(
  store: ProjectStore,
  input: { version?: string; out: string; overwrite?: boolean },
): ExportModelResult {
  return writeModelExport(planModelExport(store, input));
}

/** The declared input and output shapes of what exportModel writes for a version. */
function declaredShapes(card: ModelCard): {
  input: (number | string)[];
  output: (number | string)[];
} {
  if (card.architecture) {
    const size = card.architecture.size;
    return { input: ['batch', 1, size, size], output: ['batch', 1, size, size] };
  }
  if (card.source.kind !== 'onnx') return { input: [], output: [] };
  const { graph, config } = card.source;
  const shape = (values: typeof graph.inputs, name: string | undefined) =>
    (values.find((v) => v.name === name) ?? values[0])?.dims?.map((d) => d ?? '?') ?? [];
  return {
    input: shape(graph.inputs, config.input.name),
    output: shape(graph.outputs, config.output.name),
  };
}

/** model.json of an external ONNX version: where it came from, its config, its test figures. */
function describeExternal(card: ModelCard, file: { name: string; bytes: number; sha256: string }) {
  if (card.source.kind !== 'onnx') throw new Error('not an external ONNX version');
  const { config, graph, path: origin, sha256: originalSha } = card.source;
  return {
    format: 'qataseg-model-description',
    formatVersion: 1,
    name: card.version,
    version: card.version,
    exportedAt: new Date().toISOString(),
    producer: { name: appPackage.name, version: appPackage.version },
    file,
    origin: {
      path: origin,
      sha256: originalSha,
      producer: graph.producer,
      addedAt: card.createdAt,
    },
    onnx: { irVersion: graph.irVersion, opsets: graph.opsets },
    ...config,
    metrics: {
      threshold: config.output.threshold,
      test: card.metrics.test,
      note: 'test: the project locked test split',
    },
  };
}
