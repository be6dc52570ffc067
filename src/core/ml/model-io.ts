/**
 * Saving and loading tfjs models and optimizer state with plain fs (tfjs-node's file:// handler is
 * not installed everywhere). A model folder holds the standard `model.json` + `weights.bin` pair,
 * loadable by any tfjs; a checkpoint adds the optimizer's moments beside it.
 */
import fs from 'node:fs';
import path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Tf } from './tf';
import { readJsonFile, writeFileAtomic } from './checkpoint';

/** One optimizer weight as tfjs's Optimizer.getWeights lists it. */
export interface NamedTensor {
  name: string;
  tensor: tfTypes.Tensor;
}

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';
const OPTIMIZER_FILE = 'optimizer.json';
const OPTIMIZER_WEIGHTS_FILE = 'optimizer.bin';

function toBuffer(data: ArrayBuffer | ArrayBuffer[] | undefined): Buffer {
  if (!data) return Buffer.alloc(0);
  const parts = Array.isArray(data) ? data : [data];
  return Buffer.concat(parts.map((part) => Buffer.from(part)));
}

function toArrayBuffer(buffer: Buffer): ArrayBuffer {
  return buffer.buffer.slice(
    buffer.byteOffset,
    buffer.byteOffset + buffer.byteLength,
  ) as ArrayBuffer;
}

/** A tf.io save handler writing model.json + weights.bin into `dir`. */
export function fileSaveHandler(tf: Tf, dir: string): tfTypes.io.IOHandler {
  return tf.io.withSaveHandler(async (artifacts) => {
    fs.mkdirSync(dir, { recursive: true });
    const weights = toBuffer(artifacts.weightData);
    writeFileAtomic(path.join(dir, WEIGHTS_FILE), weights);
    const modelJson = {
      modelTopology: artifacts.modelTopology,
      format: artifacts.format ?? 'layers-model',
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy ?? null,
      weightsManifest: [{ paths: [`./${WEIGHTS_FILE}`], weights: artifacts.weightSpecs ?? [] }],
    };
    writeFileAtomic(path.join(dir, MODEL_FILE), JSON.stringify(modelJson));
    return {
      modelArtifactsInfo: {
        dateSaved: new Date(),
        modelTopologyType: 'JSON',
        weightDataBytes: weights.length,
      },
    };
  });
}

const modelJsonSchema = z.object({
  modelTopology: z.record(z.string(), z.unknown()),
  format: z.string().optional(),
  generatedBy: z.string().optional(),
  convertedBy: z.string().nullable().optional(),
  weightsManifest: z.array(
    z.object({
      paths: z.array(z.string()),
      weights: z.array(z.custom<tfTypes.io.WeightsManifestEntry>()),
    }),
  ),
});

/**
 * A weights file named by a model.json, which must stay inside the model's folder: no absolute
 * path, no `..`, no symbolic link leading out (a model folder can come from anyone).
 */
function weightsFile(dir: string, name: string): string {
  const outside = () => new Error(`model.json names weights outside its folder: ${name}`);
  if (path.isAbsolute(name) || path.win32.isAbsolute(name)) throw outside();
  const folder = fs.realpathSync(dir);
  const file = path.resolve(folder, name);
  const inside = (candidate: string) => candidate.startsWith(folder + path.sep);
  if (!inside(file)) throw outside();
  if (fs.existsSync(file) && !inside(fs.realpathSync(file))) throw outside();
  return file;
}

/** A tf.io load handler reading what fileSaveHandler wrote. */
export function fileLoadHandler(dir: string): tfTypes.io.IOHandler {
  return {
    load: async () => {
      const modelJson = readJsonFile(
        path.join(dir, MODEL_FILE),
        `${MODEL_FILE} in ${dir}`,
        modelJsonSchema,
      );
      const weightSpecs = modelJson.weightsManifest.flatMap((group) => group.weights);
      const buffers = modelJson.weightsManifest.flatMap((group) =>
        group.paths.map((file) => fs.readFileSync(weightsFile(dir, file))),
      );
      return {
        modelTopology: modelJson.modelTopology,
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy ?? undefined,
        weightSpecs,
        weightData: toArrayBuffer(Buffer.concat(buffers)),
      };
    },
  };
}

export async function saveModel(tf: Tf, model: tfTypes.LayersModel, dir: string): Promise<void> {
  await model.save(fileSaveHandler(tf, dir));
}

export async function loadModel(tf: Tf, dir: string): Promise<tfTypes.LayersModel> {
  if (!fs.existsSync(path.join(dir, MODEL_FILE))) throw new Error(`no model in ${dir}`);
  return tf.loadLayersModel(fileLoadHandler(dir));
}

/** Saves the optimizer's state (Adam's moments and step count). */
export async function saveOptimizer(
  tf: Tf,
  optimizer: tfTypes.Optimizer,
  dir: string,
): Promise<void> {
  await saveOptimizerWeights(tf, await optimizer.getWeights(), dir);
}

/**
 * Saves optimizer weights in tfjs's order and names ('iter', then each variable's first moments,
 * then its second moments), whichever engine trained: a checkpoint resumes on either.
 */
export async function saveOptimizerWeights(
  tf: Tf,
  weights: NamedTensor[],
  dir: string,
): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(weights);
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(path.join(dir, OPTIMIZER_WEIGHTS_FILE), Buffer.from(data));
  writeFileAtomic(path.join(dir, OPTIMIZER_FILE), JSON.stringify({ specs }));
}

/** Restores state saved by saveOptimizer; returns false when there is none. */
export async function loadOptimizer(
  tf: Tf,
  optimizer: tfTypes.Optimizer,
  dir: string,
): Promise<boolean> {
  const weights = readOptimizerWeights(tf, dir);
  if (!weights) return false;
  await optimizer.setWeights(weights);
  return true;
}

/** The optimizer weights saveOptimizerWeights wrote, in order; null when there are none. */
export function readOptimizerWeights(tf: Tf, dir: string): NamedTensor[] | null {
  const specFile = path.join(dir, OPTIMIZER_FILE);
  if (!fs.existsSync(specFile)) return null;
  const { specs } = JSON.parse(fs.readFileSync(specFile, 'utf8')) as {
    specs: tfTypes.io.WeightsManifestEntry[];
  };
  const data = toArrayBuffer(fs.readFileSync(path.join(dir, OPTIMIZER_WEIGHTS_FILE)));
  const decoded = tf.io.decodeWeights(data, specs);
  return specs.map((spec) => ({ name: spec.name, tensor: decoded[spec.name] }));
}
