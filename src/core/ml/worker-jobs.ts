/**
 * The ML room's worker jobs (train, predict, evaluate, ...), by kind. The worker (src/worker/jobs.ts)
 * owns its job table and puts these in it; core never imports the process that hosts it. Jobs read
 * project.sqlite read-only and return results as messages; the host writes the database.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { WorkerJobContext, WorkerJobHandler } from './worker-job';
import { getImage, imageAbsolutePath, queryImages } from '../project/images';
import type { Db } from '../project/store';
import { type LabelSource } from '../project/masks';
import { labelSourceOf, labelSourcePairs } from '../project/label-source';
import {
  ALL_LABEL_SOURCES,
  loadTrainItem,
  openProjectReadOnly,
  readImagePixels,
  readSplits,
  splitHashes,
  type TrainingPair,
} from './data';
import type { LayersModel } from '@tensorflow/tfjs';
import type { SkippedImage } from '../../shared/contract-ml';
import { createRunner, type ModelRunner } from './engine';
import {
  evaluatePairs,
  evaluatePredictor,
  predictScoredImage,
  runnerPredictor,
  skippedImage,
  type ImagePredictor,
  type PredictionTarget,
} from './infer';
import {
  evaluateJobParamsSchema,
  externalJobModelSchema,
  modelExportJobParamsSchema,
  predictJobParamsSchema,
  trainJobParamsSchema,
  type ExternalJobModel,
  type PredictJobParams,
  type PredictionMessage,
  type TrainJobResult,
} from './job-params';
import { ExternalModel } from './external/runner';
import { writeModelExport } from './onnx/export-model';
import { loadOnnxRuntime } from './onnx/runtime';
import type { Ort } from './tf';
import { latestPrediction, revisionPixels } from '../project/masks';
import { loadModel, MODEL_FILE, WEIGHTS_FILE } from './model-io';
import { bestModelDir, trainModel, type TrainItem } from './trainer';
import { replaceFileAtomic } from './checkpoint';
import type { UncertaintyCalibration } from '../../shared/uncertainty-schemas';
import { fitVersionCalibration } from './calibrate';
import { DEFAULT_UNCERTAINTY_PASSES } from './tta';

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new Error('cancelled');
}

/** Loads the pairs' pixels; an image that cannot be read is left out and added to `skipped`. */
async function loadItems(
  db: Db,
  pairs: TrainingPair[],
  size: number,
  context: WorkerJobContext,
  phase: string,
  skipped: SkippedImage[],
  mode: 'resize' | 'tile' = 'resize',
): Promise<TrainItem[]> {
  const items: TrainItem[] = [];
  for (const [index, pair] of pairs.entries()) {
    throwIfAborted(context.signal);
    try {
      items.push(await loadTrainItem(db, pair, size, mode));
    } catch (error) {
      throwIfAborted(context.signal);
      skipped.push(skippedImage(pair, error));
      context.log('warn', `skipped ${pair.relPath}: ${skipped.at(-1)?.reason}`);
    }
    if (index % 8 === 7 || index === pairs.length - 1) {
      context.progress({ kind: 'loading', phase, done: index + 1, total: pairs.length });
    }
  }
  return items;
}

/**
 * Runs `work` with the model of a folder and its runner on the loaded engine, and releases both
 * (the runner may hold an onnxruntime session) however the work ends.
 */
async function withModel<T>(
  context: WorkerJobContext,
  modelDir: string,
  size: number,
  work: (runner: ModelRunner, model: LayersModel) => Promise<T>,
  batch?: number,
): Promise<T> {
  const model = await loadModel(context.tf, modelDir);
  try {
    const runner = await createRunner(context, model, size, batch);
    try {
      return await work(runner, model);
    } finally {
      await runner.dispose();
    }
  } finally {
    model.dispose();
  }
}

let externalOrt: Promise<Ort> | null = null;

/** onnxruntime for external models: the engine's when it is on that rung, else loaded for them. */
function onnxRuntimeFor(context: WorkerJobContext): Promise<Ort> {
  if (context.ort) return Promise.resolve(context.ort);
  externalOrt ??= loadOnnxRuntime().catch((error: unknown) => {
    externalOrt = null;
    throw new Error(
      `external ONNX models need onnxruntime-node, which did not load: ${String(error)}`,
    );
  });
  return externalOrt;
}

async function withExternalModel<T>(
  context: WorkerJobContext,
  external: ExternalJobModel,
  work: (model: ExternalModel) => Promise<T>,
): Promise<T> {
  const model = await ExternalModel.load(
    await onnxRuntimeFor(context),
    external.file,
    external.config,
  );
  try {
    return await work(model);
  } finally {
    await model.release();
  }
}

/**
 * Runs `work` with what predicts a version's images: an external ONNX model, the version's stored
 * (imported) predictions, or the project's U-Net of modelDir.
 */
async function withPredictor<T>(
  context: WorkerJobContext,
  db: Db,
  params: {
    modelDir: string;
    size: number;
    tile: boolean;
    external?: ExternalJobModel;
    stored?: string;
  },
  work: (predict: ImagePredictor) => Promise<T>,
): Promise<T> {
  if (params.external) {
    return withExternalModel(context, params.external, (model) =>
      work(async ({ imagePath }) => model.predict(await readImagePixels(imagePath))),
    );
  }
  const stored = params.stored;
  if (stored) {
    return work(async ({ imageId }) => {
      const revision = latestPrediction(db, imageId, stored);
      return revision ? revisionPixels(db, revision.id) : null;
    });
  }
  return withModel(context, params.modelDir, params.size, (runner) =>
    work(runnerPredictor(runner, params.size, params.tile)),
  );
}

/** Loads an external model and runs one blank image through it: its output must fit the config. */
async function runExternalCheck(raw: unknown, context: WorkerJobContext) {
  const external = externalJobModelSchema.parse(raw);
  return withExternalModel(context, external, (model) => model.check());
}

async function runTrain(raw: unknown, context: WorkerJobContext): Promise<TrainJobResult> {
  const params = trainJobParamsSchema.parse(raw);
  const db = openProjectReadOnly(params.projectDir);
  try {
    const labels = params.labels as LabelSource[];
    const splits = readSplits(
      db,
      labels,
      params.valFraction,
      params.seed,
      labelSourceOf(params.labelSource),
    );
    if (splits.train.length === 0) {
      throw new Error(
        `no training images: the train split has no labels of the chosen set (${labels.join(', ')})`,
      );
    }
    const skipped: SkippedImage[] = [];
    const train = await loadItems(
      db,
      splits.train,
      params.size,
      context,
      'loading train images',
      skipped,
      params.inputMode,
    );
    if (train.length === 0) {
      throw new Error(
        `no train image could be read: ${skipped.map((entry) => `${entry.image} (${entry.reason})`).join('; ')}`,
      );
    }
    const checkpointDir = path.join(params.modelDir, 'checkpoint');
    // Test hook: the worker dies after this epoch (only with the test jobs switched on).
    const crashAfter =
      process.env.QATASEG_TEST_JOBS === '1'
        ? Number(process.env.QATASEG_TEST_CRASH_AFTER_EPOCH ?? NaN)
        : NaN;
    const result = await trainModel(
      {
        engine: context,
        config: params,
        train,
        // Validation reads the val split itself, at each image's resolution (validate below).
        val: [],
        checkpointDir,
        initialModelDir: params.initialModelDir,
        resume: params.resume,
        // The same measure as the card's validation figure below (one source for the version).
        validate: async (runner) =>
          (
            await evaluatePairs(runner, db, splits.val, params.size, 0.5, {
              tile: params.inputMode === 'tile',
              signal: context.signal,
            })
          ).metrics?.dice ?? null,
      },
      {
        signal: context.signal,
        log: (message) => context.log('info', message),
        onStep: (progress) => context.progress(progress),
        onEpoch: (progress) => {
          context.progress(progress);
          if (progress.record.epoch >= crashAfter) process.exit(71);
        },
      },
    );
    // The version's model is the epoch with the best validation Dice.
    const bestDir = bestModelDir(checkpointDir);
    if (!bestDir) throw new Error(`the checkpoint in ${checkpointDir} holds no best model`);
    for (const file of [MODEL_FILE, WEIGHTS_FILE]) {
      replaceFileAtomic(path.join(params.modelDir, file), (temporary) =>
        fs.copyFileSync(path.join(bestDir, file), temporary),
      );
    }
    return await withModel(
      context,
      params.modelDir,
      params.size,
      async (runner, model) => {
        context.progress({ kind: 'loading', phase: 'testing', done: 0, total: splits.test.length });
        const evaluate = (pairs: TrainingPair[], phase: string) =>
          evaluatePairs(runner, db, pairs, params.size, 0.5, {
            tile: params.inputMode === 'tile',
            signal: context.signal,
            onImage: (done, total) => context.progress({ kind: 'loading', phase, done, total }),
          });
        const valEvaluation = await evaluate(splits.val, 'validating');
        const testEvaluation = await evaluate(splits.test, 'testing on the locked test split');
        // The card describes the data the version saw: without the images that were skipped.
        for (const entry of [...valEvaluation.skipped, ...testEvaluation.skipped]) {
          if (!skipped.some((known) => known.imageId === entry.imageId)) skipped.push(entry);
        }
        const left = new Set(skipped.map((entry) => entry.imageId));
        const kept = (pairs: TrainingPair[]) => pairs.filter((pair) => !left.has(pair.imageId));
        const used = { train: kept(splits.train), val: kept(splits.val), test: kept(splits.test) };
        // The uncertainty score's calibration for this version, from the images it learnt from
        // with labels, predicted as prediction jobs predict them (tiling scores no passes).
        let uncertaintyCalibration: UncertaintyCalibration | null = null;
        if (params.inputMode !== 'tile') {
          uncertaintyCalibration = await fitVersionCalibration(
            runner,
            db,
            used,
            params.size,
            DEFAULT_UNCERTAINTY_PASSES,
            {
              signal: context.signal,
              onImage: (done, total) =>
                context.progress({
                  kind: 'loading',
                  phase: 'calibrating the uncertainty score',
                  done,
                  total,
                }),
            },
          );
        }
        return {
          backend: context.backend,
          parameters: model.countParams(),
          history: result.history,
          bestEpoch: result.bestEpoch,
          trainSeconds: result.trainSeconds,
          imagesPerSecond: result.imagesPerSecond,
          ...(result.parallelism ? { parallelism: result.parallelism } : {}),
          data: {
            ...splitHashes(used, labels),
            train: used.train.length,
            val: used.val.length,
            test: used.test.length,
            skipped,
          },
          metrics: { val: valEvaluation.metrics, test: testEvaluation.metrics },
          testPerImage: testEvaluation.perImage,
          uncertaintyCalibration,
        };
      },
      params.batch,
    );
  } finally {
    db.close();
  }
}

/** The predictor of a prediction job: each map with its pass count and, if scored, its score. */
type ScoredPredictor = (
  target: PredictionTarget,
) => Promise<{ probabilities: Uint8Array; uncertainty: number | null; passes: number } | null>;

async function withScoredPredictor<T>(
  context: WorkerJobContext,
  db: Db,
  params: PredictJobParams,
  work: (predict: ScoredPredictor) => Promise<T>,
): Promise<T> {
  if (params.external || params.passes <= 1 || params.tile) {
    return withPredictor(context, db, params, (predict) =>
      work(async (target) => {
        const probabilities = await predict(target);
        return probabilities && { probabilities, uncertainty: null, passes: 1 };
      }),
    );
  }
  return withModel(context, params.modelDir, params.size, (runner) =>
    work(async (target) => ({
      ...(await predictScoredImage(
        runner,
        await readImagePixels(target.imagePath, target),
        params.size,
        { passes: params.passes, calibration: params.calibration },
      )),
      passes: params.passes,
    })),
  );
}

async function runPredict(raw: unknown, context: WorkerJobContext) {
  const params = predictJobParamsSchema.parse(raw);
  const db = openProjectReadOnly(params.projectDir);
  try {
    return await withScoredPredictor(context, db, params, async (predict) => {
      const images = params.imageIds
        ? params.imageIds.map((id) => getImage(db, id))
        : queryImages(db).filter((image) => image.status !== 'missing');
      let done = 0;
      let inferences = 0;
      const skipped: SkippedImage[] = [];
      for (const image of images) {
        throwIfAborted(context.signal);
        try {
          const predicted = await predict({
            imageId: image.id,
            imagePath: imageAbsolutePath(image),
            relPath: image.relPath,
            width: image.width,
            height: image.height,
          });
          if (!predicted) throw new Error('no prediction');
          done += 1;
          inferences += predicted.passes;
          const message: PredictionMessage = {
            kind: 'prediction',
            imageId: image.id,
            image: image.relPath,
            width: image.width,
            height: image.height,
            probabilities: predicted.probabilities,
            ...(predicted.uncertainty === null ? {} : { uncertainty: predicted.uncertainty }),
            passes: predicted.passes,
            done,
            total: images.length,
          };
          context.progress(message);
        } catch (error) {
          if (context.signal.aborted) throw error;
          skipped.push(skippedImage({ imageId: image.id, relPath: image.relPath }, error));
          context.log('warn', `skipped ${image.relPath}: ${skipped.at(-1)?.reason}`);
        }
      }
      return { predicted: done, skipped, total: images.length, inferences };
    });
  } finally {
    db.close();
  }
}

async function runEvaluate(raw: unknown, context: WorkerJobContext) {
  const params = evaluateJobParamsSchema.parse(raw);
  const db = openProjectReadOnly(params.projectDir);
  try {
    return await withPredictor(context, db, params, async (predict) => {
      let pairs: TrainingPair[];
      const source = labelSourceOf(params.labelSource);
      if (params.split === 'val') {
        pairs = readSplits(db, params.labels, params.valFraction, params.seed, source).val;
      } else {
        const splits =
          params.split === 'all'
            ? (['train', 'test', 'control', 'unassigned'] as const)
            : [params.split];
        pairs = labelSourcePairs(db, { splits: [...splits], sources: ALL_LABEL_SOURCES }, source);
      }
      return evaluatePredictor(predict, db, pairs, params.threshold, {
        signal: context.signal,
        onImage: (done, total) =>
          context.progress({ kind: 'loading', phase: 'evaluating', done, total }),
      });
    });
  } finally {
    db.close();
  }
}

export const mlWorkerJobs: Readonly<Record<string, WorkerJobHandler>> = {
  train: runTrain,
  predict: runPredict,
  evaluate: runEvaluate,
  'external.check': runExternalCheck,
  // Building a large U-Net's graph takes a second or two: off the host's event loop.
  'export-model': async (raw) => writeModelExport(modelExportJobParamsSchema.parse(raw)),
};
