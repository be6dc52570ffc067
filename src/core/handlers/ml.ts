/**
 * Handlers of the ml room's contract methods (src/shared/contract-ml.ts). Training, prediction and
 * evaluation run in the ML worker; this side validates, reserves model folders, relays progress as
 * `job.updated` (training keeps its epoch history in the job's detail for the curves), writes
 * cards and prediction revisions (the host is the only writer of the project).
 */
import path from 'node:path';
import { ApiError, type BackendName } from '../../shared/contract';
import type {
  Evaluation,
  EvaluationSplit,
  ModelCard,
  SkippedImage,
  TrainParams,
} from '../../shared/contract-ml';
import type { JobReporter, JobRunner } from '../job-reporter';
import type { PredictJobParams } from '../ml/job-params';
import { savePrediction, unpredictedImageIds } from '../project/masks';
import type { Db } from '../project/store';
import type { HandlerGroup, ServiceContext } from './context';
import {
  trainJobResultSchema,
  type EvaluateJobParams,
  type PredictionMessage,
  type TrainJobParams,
} from '../ml/job-params';
import { backendMemoryLimit, estimateTrainingMemory, memoryRefusal } from '../ml/memory';
import { checkUNetArchitecture } from '../ml/architecture';
import { DamagedFileError, readCheckpointState } from '../ml/checkpoint';
import { changeReference, recordPredictionChanges } from '../ml/active-learning';
import { DEFAULT_UNCERTAINTY_PASSES } from '../ml/tta';
import {
  activeVersion,
  compareCards,
  getCard,
  listVersionNames,
  claimNextVersion,
  lockVersion,
  orDamaged,
  promote,
  promotionShortfall,
  readCard,
  readRunRecord,
  resolveVersion,
  rollback,
  shortfallMessage,
  summarise,
  versionDir,
  writeCard,
  writeRunRecord,
  type RunRecord,
} from '../ml/versions';
import type { EpochProgress, StepProgress } from '../ml/trainer';
import { externalEvaluateParams, predictJobParams } from '../ml/external/job-params';
import { assertLabelSource, labelSourceOf } from '../project/label-source';
import type { ProjectStore } from '../project/store';

/** The backend training will use: the worker's, once started. */
async function workerBackend(context: ServiceContext): Promise<BackendName> {
  const status = await context.worker.ensureStarted();
  if (!status.backend) throw new ApiError('internal', 'the ML worker reported no backend');
  return status.backend;
}

/**
 * What may run at once: one training per worker (its memory estimate admits one run), one import
 * and one prediction per project (both write rows of the same images), one export per project.
 * Evaluations only read, and run beside anything.
 */
const TRAIN_SLOT = 'train';
const predictSlot = (projectDir: string) => `predict:${projectDir}`;

type WorkerProgress =
  StepProgress | EpochProgress | { kind: 'loading'; phase: string; done: number; total: number };

function relayTrainProgress(reporter: JobReporter, version: string, raw: unknown): void {
  const progress = raw as WorkerProgress;
  switch (progress.kind) {
    case 'loading':
      reporter.progress({ phase: progress.phase, done: progress.done, total: progress.total });
      break;
    case 'step':
      reporter.progress({
        phase: `epoch ${progress.epoch}/${progress.epochs}`,
        done: (progress.epoch - 1) * progress.steps + progress.step,
        total: progress.epochs * progress.steps,
        detail: {
          version,
          epoch: progress.epoch,
          epochs: progress.epochs,
          step: progress.step,
          steps: progress.steps,
          loss: progress.loss,
          imagesPerSecond: progress.imagesPerSecond,
          etaSeconds: progress.etaSeconds,
        },
      });
      break;
    case 'epoch':
      reporter.progress({
        detail: {
          version,
          history: progress.history,
          valDice: progress.record.valDice,
          epochLoss: progress.record.loss,
          bestEpoch: progress.bestEpoch,
          etaSeconds: progress.etaSeconds,
        },
      });
      break;
    default:
      break;
  }
}

function shouldPromote(
  context: ServiceContext,
  card: ModelCard,
  policy: TrainParams['promote'],
): boolean {
  if (policy === 'never') return false;
  if (policy === 'always') return true;
  const store = context.project();
  const current = activeVersion(store);
  if (!current) return true;
  let active: ModelCard | null;
  try {
    active = readCard(store, current);
  } catch (error) {
    // The active version can no longer be used: a finished run takes its place.
    if (error instanceof DamagedFileError) return true;
    throw error;
  }
  if (!active?.metrics.test || !card.metrics.test) return false;
  if (active.data.testSplitHash !== card.data.testSplitHash) return false;
  return card.metrics.test.dice > active.metrics.test.dice;
}

/**
 * The runner of a training run: takes the version's lock now (another process may hold it) and
 * gives it back when the run ends, however it ends.
 */
function trainJobRunner(
  context: ServiceContext,
  run: RunRecord,
  resume: boolean,
  backend: BackendName,
): JobRunner<unknown> {
  const store = context.project();
  const dir = versionDir(store, run.version);
  const params = run.params;
  const initialModelDir = run.parent ? versionDir(store, run.parent) : null;
  const jobParams: TrainJobParams = {
    projectDir: store.dir,
    version: run.version,
    modelDir: dir,
    initialModelDir,
    resume,
    size: params.size,
    base: params.base,
    batch: params.batch,
    epochs: params.epochs,
    learningRate: params.learningRate,
    seed: params.seed,
    loss: params.loss,
    dropout: params.dropout,
    augment: params.augment,
    valFraction: params.valFraction,
    labels: params.labels,
    labelSource: params.labelSource,
    inputMode: params.inputMode,
  };
  const release = lockVersion(store, run.version);
  return async (reporter) => {
    try {
      return await trainRun(reporter);
    } finally {
      release();
    }
  };

  async function trainRun(reporter: JobReporter) {
    const started = performance.now();
    reporter.progress({
      phase: resume ? 'resuming' : 'starting',
      detail: {
        version: run.version,
        backend,
        resume,
        params,
        // A resumed run's curves start with the epochs already done.
        history: resume ? (readCheckpointState(path.join(dir, 'checkpoint'))?.history ?? []) : [],
      },
    });
    context.emit('models.changed', { active: activeVersion(store) });
    const raw = await context.worker.run('train', jobParams, {
      signal: reporter.signal,
      onProgress: (progress) => relayTrainProgress(reporter, run.version, progress),
    });
    const result = trainJobResultSchema.parse(raw);
    const architecture = checkUNetArchitecture({
      size: params.size,
      base: params.base,
      dropout: params.dropout,
    });
    const card: ModelCard = {
      version: run.version,
      createdAt: new Date().toISOString(),
      parent: run.parent,
      source: { kind: 'trained' },
      architecture: { ...architecture, parameters: result.parameters },
      input: { mode: params.inputMode ?? 'resize', normalisation: '0..1' },
      backend: result.backend as BackendName,
      ladder: context.worker.getStatus().ladder,
      hyperParameters: {
        epochs: params.epochs,
        batch: params.batch,
        learningRate: params.learningRate,
        seed: params.seed,
        loss: params.loss,
        augment: params.augment,
        valFraction: params.valFraction,
      },
      data: {
        labels: params.labels,
        ...(params.labelSource ? { labelSource: params.labelSource } : {}),
        ...result.data,
      },
      history: result.history,
      bestEpoch: result.bestEpoch,
      metrics: result.metrics,
      testPerImage: result.testPerImage,
      ...(result.uncertaintyCalibration
        ? { uncertaintyCalibration: result.uncertaintyCalibration }
        : {}),
      durationSeconds: (performance.now() - started) / 1000,
      trainSeconds: result.trainSeconds,
      imagesPerSecond: result.imagesPerSecond,
      ...(result.parallelism ? { parallelism: result.parallelism } : {}),
    };
    writeCard(store, card);
    const promoted = shouldPromote(context, card, params.promote);
    if (promoted) promote(store, card.version);
    context.emit('models.changed', { active: activeVersion(store) });
    context.emit('project.changed', context.projectState());
    reporter.progress({ phase: 'done', detail: { version: run.version, promoted } });
    return {
      version: card.version,
      promoted,
      testDice: card.metrics.test?.dice ?? null,
      valDice: card.metrics.val?.dice ?? null,
      epochs: card.history.length,
      imagesPerSecond: card.imagesPerSecond,
      backend: card.backend,
      skipped: card.data.skipped ?? [],
    };
  }
}

async function checkMemory(
  context: ServiceContext,
  params: Pick<TrainParams, 'size' | 'base' | 'batch'>,
) {
  const backend = await workerBackend(context);
  const refusal = memoryRefusal(params, backend, backendMemoryLimit(backend));
  if (refusal) throw new ApiError('bad-request', refusal);
  return backend;
}

/** The worker's parameters of an evaluation of `version` (a U-Net trained here, or external). */
function evaluateParams(
  store: ProjectStore,
  card: ModelCard,
  version: string,
  split: EvaluationSplit,
  threshold: number,
): EvaluateJobParams {
  return card.architecture && card.hyperParameters
    ? {
        projectDir: store.dir,
        modelDir: versionDir(store, version),
        size: card.architecture.size,
        split,
        threshold,
        tile: card.input.mode === 'tile',
        valFraction: card.hyperParameters.valFraction,
        seed: card.hyperParameters.seed,
        labels: card.data.labels,
      }
    : externalEvaluateParams(store, card, split, threshold);
}

async function runEvaluation(
  context: ServiceContext,
  version: string,
  split: EvaluationSplit,
  threshold: number,
  labelSource?: string,
): Promise<Evaluation> {
  const store = context.project();
  const card = getCard(store, version);
  assertLabelSource(store.db, labelSourceOf(labelSource));
  const params: EvaluateJobParams = {
    ...evaluateParams(store, card, version, split, threshold),
    ...(labelSource ? { labelSource } : {}),
  };
  const job = context.jobs.start('evaluate', async (reporter) => {
    reporter.progress({ phase: 'evaluating', detail: { version, split } });
    const raw = (await context.worker.run('evaluate', params, {
      signal: reporter.signal,
      onProgress: (progress) => {
        const p = progress as { done?: number; total?: number };
        reporter.progress({ done: p.done, total: p.total });
      },
    })) as {
      metrics: Omit<Evaluation, 'model' | 'split' | 'threshold' | 'perImage'> | null;
      perImage: Evaluation['perImage'];
      skipped: SkippedImage[];
    };
    const metrics = raw.metrics ?? {
      images: 0,
      dice: 0,
      iou: 0,
      precision: 0,
      recall: 0,
      specificity: 0,
      accuracy: 0,
    };
    const evaluation: Evaluation = {
      model: version,
      split,
      threshold,
      ...metrics,
      perImage: raw.perImage,
      skipped: raw.skipped,
    };
    return evaluation;
  });
  return (await context.jobs.wait(job.id)) as Evaluation;
}

/** Predictions announced together to the worklist (or after a second, whichever comes first). */
const PREDICTION_BATCH = 16;

/** Refuses ids of no image before a job starts (the run would otherwise fail half-way). */
function assertImagesExist(db: Db, ids: number[]): void {
  const missing = db
    .prepare(
      'SELECT value AS id FROM json_each(?) WHERE value NOT IN (SELECT id FROM images) LIMIT 1',
    )
    .get(JSON.stringify(ids)) as { id: number } | undefined;
  if (missing) throw new ApiError('not-found', `no image ${missing.id}`);
}

/** What the worker's predict job returns. */
interface PredictResult {
  predicted: number;
  skipped: SkippedImage[];
  total: number;
  /** Model runs, test-time passes included. */
  inferences: number;
}

/**
 * Predicts images with a version in the worker and stores each probability map as it arrives. The
 * first map that cannot be stored (a full disk) stops the worker and fails the run naming the
 * image; the maps stored before it are kept and counted.
 */
async function runPrediction(
  context: ServiceContext,
  version: string,
  params: PredictJobParams,
  reporter: JobReporter,
) {
  const store = context.project();
  reporter.progress({ phase: 'predicting', detail: { version } });
  const worker = new AbortController();
  const stopWorker = () => worker.abort();
  reporter.signal.addEventListener('abort', stopWorker, { once: true });
  let saving: Promise<void> = Promise.resolve();
  // Set by the save chain (a closure), read once the saves have settled.
  const failed: { error: Error | null } = { error: null };
  const saved: number[] = [];
  // Model runs behind the stored maps (test-time passes for the uncertainty score).
  let inferences = 0;
  let result: PredictResult | null = null;
  // The worklist fills as predictions land: announce them in small batches, not at the end.
  let announced = 0;
  let announcedAt = performance.now();
  const announce = (force: boolean) => {
    const fresh = saved.slice(announced);
    if (fresh.length === 0) return;
    if (!force && fresh.length < PREDICTION_BATCH && performance.now() - announcedAt < 1000) return;
    announced = saved.length;
    announcedAt = performance.now();
    context.emit('images.changed', { reason: 'prediction', imageIds: fresh });
  };
  try {
    result = (await context.worker.run('predict', params, {
      signal: worker.signal,
      onProgress: (progress) => {
        const message = progress as PredictionMessage;
        if (message.kind !== 'prediction') return;
        // Saves run one after another, in arrival order, off the worker's critical path.
        saving = saving.then(async () => {
          if (failed.error) return;
          try {
            await savePrediction(
              store.db,
              message.imageId,
              version,
              message.probabilities,
              message.uncertainty,
            );
          } catch (error) {
            const reason = error instanceof Error ? error.message : String(error);
            failed.error = new Error(
              `saving the prediction of ${message.image} failed: ${reason} (${saved.length} of ${message.total} stored before it)`,
            );
            worker.abort();
            return;
          }
          saved.push(message.imageId);
          inferences += message.passes;
          reporter.progress({ done: saved.length, total: message.total, detail: { inferences } });
          announce(false);
        });
      },
    })) as PredictResult;
  } catch (error) {
    // The worker was stopped because a save failed: that failure is the reason, not a cancel.
    if (!worker.signal.aborted || reporter.signal.aborted) throw error;
  } finally {
    reporter.signal.removeEventListener('abort', stopWorker);
    await saving;
    announce(true);
  }
  if (failed.error) throw failed.error;
  if (!result) throw new Error('the ML worker returned no prediction result');
  // Active learning: how much each image's prediction moved from the previous version's.
  reporter.progress({ phase: 'comparing with the previous version' });
  const changes = await recordPredictionChanges(store, version, saved, reporter.signal);
  if (changes.images > 0) context.emit('images.changed', { reason: 'prediction' });
  return {
    version,
    ...result,
    saved: saved.length,
    comparedWith: changes.reference,
  };
}

export const mlHandlers: HandlerGroup = {
  'train.start': (input, context) =>
    context.jobs.startExclusive(TRAIN_SLOT, 'a training run', 'train', async (slot) => {
      const store = context.project();
      let params = input as TrainParams;
      assertLabelSource(store.db, labelSourceOf(params.labelSource));
      const parent = params.from ? resolveVersion(store, params.from) : null;
      if (parent) {
        // A fine-tune keeps the parent's architecture (its weights fit no other base).
        const parentCard = getCard(store, parent);
        if (!parentCard.architecture)
          throw new ApiError(
            'bad-request',
            `${parent} is an external version (${parentCard.source.kind}); only U-Nets trained here can be fine-tuned`,
          );
        params = {
          ...params,
          base: parentCard.architecture.base,
          dropout: parentCard.architecture.dropout,
        };
      }
      const backend = await checkMemory(context, params);
      const version = claimNextVersion(store);
      slot.describe(`a training run (${version})`);
      const run: RunRecord = { version, createdAt: new Date().toISOString(), parent, params };
      writeRunRecord(store, run);
      return trainJobRunner(context, run, false, backend);
    }),

  'train.resume': (input, context) =>
    context.jobs.startExclusive(
      TRAIN_SLOT,
      `a training run (${input.version})`,
      'train',
      async () => {
        const store = context.project();
        if (orDamaged(input.version, () => readCard(store, input.version))) {
          throw new ApiError(
            'conflict',
            `model ${input.version} has finished training; start a fine-tune from it instead`,
          );
        }
        const run = orDamaged(input.version, () => readRunRecord(store, input.version));
        orDamaged(input.version, () =>
          readCheckpointState(path.join(versionDir(store, input.version), 'checkpoint')),
        );
        const backend = await checkMemory(context, run.params);
        return trainJobRunner(context, run, true, backend);
      },
    ),

  'train.estimate': async (input, context) => {
    const backend = await workerBackend(context);
    const limit = backendMemoryLimit(backend);
    const estimate = estimateTrainingMemory(input, limit);
    return { ...estimate, backend, message: memoryRefusal(input, backend, limit) };
  },

  'predict.start': (input, context) => {
    const store = context.project();
    const version = resolveVersion(store, input.model);
    if (input.imageIds) assertImagesExist(store.db, input.imageIds);
    // Decided before a job exists: a version of imported predictions has no model to run.
    const params = predictJobParams(
      store,
      getCard(store, version),
      input.imageIds ?? null,
      input.passes ?? DEFAULT_UNCERTAINTY_PASSES,
    );
    return context.jobs.startExclusive(
      predictSlot(store.dir),
      `a prediction with ${version}`,
      'predict',
      () => (reporter) => runPrediction(context, version, params, reporter),
    );
  },

  'evaluate.run': async (input, context) => {
    const store = context.project();
    const version = resolveVersion(store, input.model);
    return runEvaluation(
      context,
      version,
      input.split ?? 'test',
      input.threshold ?? 0.5,
      input.labelSource,
    );
  },

  'models.list': (_input, context) => {
    const store = context.project();
    return listVersionNames(store).map((version) => summarise(store, version));
  },

  'models.get': (input, context) => getCard(context.project(), input.version),

  'models.promote': (input, context) => {
    const shortfall = promotionShortfall(context.project(), input.version);
    if (shortfall && !input.confirmWorse) {
      throw new ApiError(
        'conflict',
        `${shortfallMessage(shortfall)}; confirm to promote it anyway`,
      );
    }
    const active = promote(context.project(), input.version);
    context.emit('models.changed', { active });
    return { active };
  },

  'models.rollback': (_input, context) => {
    const active = rollback(context.project());
    context.emit('models.changed', { active });
    return { active };
  },

  'changes.start': (input, context, caller) => {
    const store = context.project();
    const version = resolveVersion(store, input.version);
    getCard(store, version);
    const reference = changeReference(store, version);
    if (!reference) {
      throw new ApiError(
        'conflict',
        `${version} has no earlier or active version to compare with: train another version first`,
      );
    }
    getCard(store, reference);
    return context.jobs.start('compare', async (reporter) => {
      for (const model of [reference, version]) {
        const missing = unpredictedImageIds(store.db, model);
        if (missing.length === 0) continue;
        reporter.progress({ phase: `predicting ${model}`, detail: { version, reference } });
        const predict = mlHandlers['predict.start']!;
        const job = await predict({ model, imageIds: missing }, context, caller);
        const cancel = () => context.jobs.cancel(job.id);
        reporter.signal.addEventListener('abort', cancel);
        try {
          await context.jobs.wait(job.id);
        } finally {
          reporter.signal.removeEventListener('abort', cancel);
        }
      }
      reporter.progress({ phase: `comparing ${version} with ${reference}` });
      const changes = await recordPredictionChanges(store, version, null, reporter.signal);
      context.emit('images.changed', { reason: 'prediction' });
      return { version, reference, images: changes.images };
    });
  },

  'models.compare': (input, context) => {
    const store = context.project();
    return compareCards(getCard(store, input.a), getCard(store, input.b));
  },
};
