/**
 * The training loop, independent of where samples come from and of the engine: a custom loop
 * (tfjs's optimizer.minimize over the model's trainable variables, or onnxruntime's training-step
 * graph with Adam beside it) so any loss of ./losses works, seeded shuffling and augmentation,
 * progress per step and per epoch, cancel between steps, a checkpoint every epoch (model,
 * optimizer moments, loop state) and resume from it, on either engine.
 */
import fs from 'node:fs';
import path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { maskMetrics, meanOf } from '../../shared/metrics';
import type { Engine, Tf } from './tf';
import { toUnitFloat, type BatchRequest, type TrainItem } from './batch';
import { BatchLoader } from './batch-loader';
import { tfjsRunner, type ModelRunner } from './engine';
import { computeLoss, type LossName } from './losses';
import { loadModel, loadOptimizer, MODEL_FILE, saveModel, saveOptimizer } from './model-io';
import { dropoutSeed } from './onnx/runtime';
import { OnnxTrainer, type StepInput } from './onnx/onnx-trainer';
import { deriveSeed, Random } from '../math/random';
import { buildUNet } from './unet';
import { overlapTile } from './tile';
import {
  CHECKPOINT_BEST,
  CHECKPOINT_STATE,
  currentCheckpoint,
  linkFolder,
  readCheckpointState,
  replaceFolder,
  type CheckpointState,
  type EpochRecord,
} from './checkpoint';

export type { EpochRecord };
export { cropItem, toUnitFloat, type TrainItem } from './batch';

export interface TrainConfig {
  size: number;
  base: number;
  batch: number;
  epochs: number;
  learningRate: number;
  seed: number;
  loss: LossName;
  dropout: number;
  augment: boolean;
}

export interface StepProgress {
  kind: 'step';
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss: number;
  imagesPerSecond: number;
  etaSeconds: number;
}

export interface EpochProgress {
  kind: 'epoch';
  record: EpochRecord;
  history: EpochRecord[];
  epochs: number;
  etaSeconds: number;
  bestEpoch: number;
}

export interface TrainResult {
  history: EpochRecord[];
  bestEpoch: number;
  trainSeconds: number;
  imagesPerSecond: number;
  epochsRun: number;
  /** How the steps ran across threads (onnxruntime: replicas or one session). */
  parallelism?: string;
}

export class TrainingCancelled extends Error {
  constructor() {
    super('training cancelled; resume continues from the last completed epoch');
    this.name = 'TrainingCancelled';
  }
}

/** 0..1 probabilities to 0..255 bytes (the stored form of a prediction). */
export function probabilitiesToBytes(probabilities: Float32Array): Uint8Array {
  const out = new Uint8Array(probabilities.length);
  for (let i = 0; i < probabilities.length; i++)
    out[i] = Math.round(Math.min(1, Math.max(0, probabilities[i])) * 255);
  return out;
}

/** Mean per-image Dice at threshold 0.5, the validation figure of every epoch. */
export async function meanDice(
  runner: ModelRunner,
  items: TrainItem[],
  size: number,
): Promise<number | null> {
  if (items.length === 0) return null;
  if (items.some((item) => item.width !== undefined)) {
    // Tile mode: each image at its own resolution, overlap-tiled.
    const scores: number[] = [];
    for (const item of items) {
      const width = item.width ?? size;
      const height = item.height ?? size;
      const probabilities = await overlapTile(
        toUnitFloat(item.image),
        width,
        height,
        (tiles) => runner.predict(tiles),
        { size },
      );
      scores.push(maskMetrics(probabilitiesToBytes(probabilities), item.mask, 0.5).dice);
    }
    return meanOf(scores);
  }
  const probabilities = await runner.predict(items.map((item) => toUnitFloat(item.image)));
  return meanOf(
    probabilities.map(
      (p, index) => maskMetrics(probabilitiesToBytes(p), items[index].mask, 0.5).dice,
    ),
  );
}

export interface TrainCallbacks {
  signal?: AbortSignal;
  onStep?(progress: StepProgress): void;
  onEpoch?(progress: EpochProgress): void;
  log?(message: string): void;
}

/** One engine's optimisation steps over a tfjs model (OnnxTrainer is the onnxruntime one). */
interface Stepper {
  /** One step on a batch; returns its loss. */
  step(input: StepInput): Promise<number>;
  /** A runner of the current weights, for the validation Dice of an epoch. */
  runner(batch: number): Promise<ModelRunner>;
  /** Brings the tfjs model up to date before it is saved. */
  commit(): void;
  saveOptimizer(dir: string): Promise<void>;
  /** Restores the optimizer saved in `dir`; false when there is none. */
  loadOptimizer(dir: string): Promise<boolean>;
  dispose(): Promise<void>;
  /** How the last step ran across threads (said in the job's log after the first epoch). */
  parallelism?(): string;
}

function tfjsStepper(tf: Tf, model: tfTypes.LayersModel, config: TrainConfig): Stepper {
  const optimizer = tf.train.adam(config.learningRate);
  const variables = model.trainableWeights.map((weight) => weight.read() as tfTypes.Variable);
  const size = config.size;
  return {
    async step(input) {
      const shape: [number, number, number, number] = [input.count, size, size, 1];
      const x = tf.tensor4d(input.images, shape);
      const y = tf.tensor4d(input.masks, shape);
      const w = input.pixelWeights ? tf.tensor4d(input.pixelWeights, shape) : undefined;
      const lossTensor = optimizer.minimize(
        () =>
          computeLoss(tf, config.loss, y, model.apply(x, { training: true }) as tfTypes.Tensor, w),
        true,
        variables,
      );
      const lossValue = lossTensor ? (await lossTensor.data())[0] : NaN;
      lossTensor?.dispose();
      tf.dispose([x, y, ...(w ? [w] : [])]);
      return lossValue;
    },
    runner: async (batch) => tfjsRunner(tf, model, size, batch),
    commit: () => {},
    saveOptimizer: (dir) => saveOptimizer(tf, optimizer, dir),
    // Adam's moments are matched to variables by order, which a rebuilt model keeps.
    loadOptimizer: (dir) => loadOptimizer(tf, optimizer, dir),
    dispose: async () => optimizer.dispose(),
  };
}

export interface TrainRun {
  /** The loaded runtime: tfjs, and onnxruntime on its rung of the ladder. */
  engine: Engine;
  config: TrainConfig;
  train: TrainItem[];
  val: TrainItem[];
  /**
   * Where the checkpoint lives (and is resumed from when it holds one): the model, the optimizer,
   * the loop's state and, in `best/`, the model of the best validation epoch so far.
   */
  checkpointDir: string;
  /** Folder of a model to fine-tune from (ignored when resuming). */
  initialModelDir?: string | null;
  resume?: boolean;
  /**
   * The validation Dice of an epoch's weights. The worker measures it at each image's own
   * resolution against its label, as the version's card does, so the best epoch's figure is the
   * card's; without it, the mean Dice of `val` at the input size.
   */
  validate?: (runner: ModelRunner) => Promise<number | null>;
}

/**
 * The model of the best validation epoch of a checkpoint; runs checkpointed before `best/` moved
 * into the checkpoint kept it beside it, in the version's folder.
 */
export function bestModelDir(checkpointDir: string): string | null {
  const folder = currentCheckpoint(checkpointDir);
  const candidates = [
    ...(folder ? [path.join(folder, CHECKPOINT_BEST)] : []),
    path.join(path.dirname(checkpointDir), CHECKPOINT_BEST),
  ];
  return candidates.find((candidate) => fs.existsSync(path.join(candidate, MODEL_FILE))) ?? null;
}

export async function trainModel(
  run: TrainRun,
  callbacks: TrainCallbacks = {},
): Promise<TrainResult> {
  const { config } = run;
  const { tf } = run.engine;
  if (run.train.length === 0)
    throw new Error('no training images with labels in the chosen label set');
  const resumeFrom = run.resume ? currentCheckpoint(run.checkpointDir) : null;
  const state: CheckpointState = (resumeFrom ? readCheckpointState(run.checkpointDir) : null) ?? {
    epoch: 0,
    history: [],
    bestEpoch: 0,
    bestValDice: null,
    trainSeconds: 0,
    trainedImages: 0,
  };
  let model: tfTypes.LayersModel;
  if (resumeFrom && state.epoch > 0) model = await loadModel(tf, resumeFrom);
  else if (run.initialModelDir) model = await loadModel(tf, run.initialModelDir);
  else
    model = buildUNet(
      { size: config.size, base: config.base, dropout: config.dropout, seed: config.seed },
      tf,
    );
  const inputShape = model.inputs[0].shape;
  if (inputShape[1] !== config.size || inputShape[2] !== config.size) {
    // Fully convolutional: rebuild at this size and carry the weights over.
    const resized = buildUNet(
      { size: config.size, base: config.base, dropout: config.dropout, seed: config.seed },
      tf,
    );
    resized.setWeights(model.getWeights());
    model.dispose();
    model = resized;
  }
  const stepper: Stepper = run.engine.ort
    ? new OnnxTrainer(run.engine.ort, tf, model, config)
    : tfjsStepper(tf, model, config);
  if (resumeFrom && state.epoch > 0) await stepper.loadOptimizer(resumeFrom);

  const size = config.size;
  const loader = new BatchLoader();
  if (loader.inlineReason) callbacks.log?.(`batches made inline: ${loader.inlineReason}`);
  const steps = Math.ceil(run.train.length / config.batch);
  const epochSecondsEstimate = () =>
    state.history.length > 0 ? meanOf(state.history.map((record) => record.seconds)) : null;

  const firstEpoch = state.epoch + 1;
  try {
    for (let epoch = firstEpoch; epoch <= config.epochs; epoch++) {
      const order = new Random(deriveSeed(config.seed, epoch)).shuffle(
        run.train.map((_, index) => index),
      );
      const batchRequest = (step: number): BatchRequest => ({
        items: order
          .slice(step * config.batch, (step + 1) * config.batch)
          .map((index) => run.train[index]),
        size,
        seed: config.seed,
        epoch,
        augment: config.augment,
        weighted: config.loss === 'weighted-bce',
      });
      const epochStart = performance.now();
      let loaderWait = performance.now();
      let nextBatch = loader.request(batchRequest(0), true);
      loaderWait = performance.now() - loaderWait;
      let lossSum = 0;
      let imagesDone = 0;
      for (let step = 0; step < steps; step++) {
        // Yield to the event loop so a cancel message from the host is seen (wasm's data() resolves
        // as a microtask, so a step alone never lets IPC in).
        await new Promise((resolve) => setImmediate(resolve));
        if (callbacks.signal?.aborted) throw new TrainingCancelled();
        const waitStart = performance.now();
        const batch = await nextBatch;
        // The next batch is prepared on the loader thread while this step runs.
        if (step + 1 < steps) nextBatch = loader.request(batchRequest(step + 1));
        loaderWait += performance.now() - waitStart;
        const lossValue = await stepper.step({
          images: batch.images,
          masks: batch.masks,
          pixelWeights: batch.weights,
          count: batch.count,
          seed: dropoutSeed(config.seed, epoch, step),
        });
        if (!Number.isFinite(lossValue))
          throw new Error(
            `loss became ${lossValue} at epoch ${epoch}, step ${step + 1}: lower the learning rate`,
          );
        lossSum += lossValue * batch.count;
        imagesDone += batch.count;
        const elapsed = (performance.now() - epochStart) / 1000;
        const imagesPerSecond = imagesDone / Math.max(elapsed, 1e-6);
        const perEpoch = epochSecondsEstimate() ?? (run.train.length / imagesPerSecond) * 1.1;
        callbacks.onStep?.({
          kind: 'step',
          epoch,
          epochs: config.epochs,
          step: step + 1,
          steps,
          loss: lossValue,
          imagesPerSecond,
          etaSeconds:
            Math.max(0, (run.train.length - imagesDone) / imagesPerSecond) +
            perEpoch * (config.epochs - epoch),
        });
      }
      const trainSeconds = (performance.now() - epochStart) / 1000;
      callbacks.log?.(
        `epoch ${epoch}: ${steps} steps in ${trainSeconds.toFixed(1)} s, ` +
          `${(loaderWait / 1000).toFixed(2)} s of it waiting for batches` +
          (epoch === firstEpoch && stepper.parallelism ? `; ${stepper.parallelism()}` : ''),
      );
      const validationRunner = await stepper.runner(Math.max(1, config.batch));
      let valDice: number | null;
      try {
        valDice = run.validate
          ? await run.validate(validationRunner)
          : await meanDice(validationRunner, run.val, size);
      } finally {
        await validationRunner.dispose();
      }
      const seconds = (performance.now() - epochStart) / 1000;
      const record: EpochRecord = {
        epoch,
        loss: lossSum / Math.max(1, imagesDone),
        valDice,
        seconds,
        imagesPerSecond: imagesDone / Math.max(trainSeconds, 1e-6),
      };
      state.epoch = epoch;
      state.history.push(record);
      state.trainSeconds += trainSeconds;
      state.trainedImages += imagesDone;
      const improved =
        state.bestValDice === null || (valDice ?? -1) > state.bestValDice || valDice === null;
      stepper.commit();
      if (improved) {
        state.bestEpoch = epoch;
        state.bestValDice = valDice;
      }
      const previousBest = bestModelDir(run.checkpointDir);
      await replaceFolder(run.checkpointDir, async (folder) => {
        await saveModel(tf, model, folder);
        await stepper.saveOptimizer(folder);
        // The best model travels with the state that names its epoch.
        const best = path.join(folder, CHECKPOINT_BEST);
        if (improved || !previousBest) await saveModel(tf, model, best);
        else linkFolder(previousBest, best);
        fs.writeFileSync(path.join(folder, CHECKPOINT_STATE), JSON.stringify(state, null, 1));
      }).catch((error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`could not write the checkpoint of epoch ${epoch}: ${reason}`);
      });
      callbacks.onEpoch?.({
        kind: 'epoch',
        record,
        history: [...state.history],
        epochs: config.epochs,
        etaSeconds: meanOf(state.history.map((r) => r.seconds)) * (config.epochs - epoch),
        bestEpoch: state.bestEpoch,
      });
    }
  } finally {
    await loader.close();
    model.dispose();
    await stepper.dispose();
  }
  const parallelism = stepper.parallelism?.();
  return {
    ...(parallelism ? { parallelism } : {}),
    history: state.history,
    bestEpoch: state.bestEpoch,
    trainSeconds: state.trainSeconds,
    imagesPerSecond: state.trainedImages / Math.max(state.trainSeconds, 1e-6),
    epochsRun: state.epoch,
  };
}
