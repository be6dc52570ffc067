/**
 * External versions: an ONNX model from elsewhere registered as a model version. The graph's
 * declared interface is read and checked against the config before anything is written; the job
 * then copies the file into `models/<version>/model.onnx`, runs one blank image through it in the
 * ML worker (the output must fit), tests it on the locked test split and writes its card, so it
 * predicts, evaluates and compares like a version trained here.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ApiError, type Job } from '../../../shared/contract';
import type { Evaluation, ModelCard } from '../../../shared/contract-ml';
import {
  addModelResultSchema,
  externalModelConfigSchema,
  type ExternalModelConfig,
  type ExternalModelConfigInput,
  type ModelSource,
  type OnnxGraphInfo,
} from '../../../shared/interop-schemas';
import { RefusedError, type JobReporter } from '../../job-reporter';
import { trainingPairs } from '../../project/masks';
import type { ProjectStore } from '../../project/store';
import type { MlContext } from '../ml-context';
import { ALL_LABEL_SOURCES, testSplitHash } from '../data';
import type { PairEvaluation } from '../infer';
import type { EvaluateJobParams } from '../job-params';
import { readOnnxGraphInfo } from '../onnx/reader';
import {
  activeVersion,
  CARD_FILE,
  claimNextVersion,
  EXTERNAL_MODEL_FILE,
  TRAIN_LOCK_FILE,
  versionDir,
  writeCard,
} from '../versions';
import { checkConfig, inputMode, tensorMemoryProblem } from './config';
import { READ_LIMITS, readNamedFile, resolveUserPath } from '../../guarded-files';

/** An ONNX file read through the guarded reader, and its declared interface. */
export interface ReadOnnxModel {
  graph: OnnxGraphInfo;
  bytes: Buffer;
}

/**
 * Reads an ONNX file (an absolute path; resolve what a request names with resolveUserPath) and
 * its declared interface: a regular file of at most READ_LIMITS.onnxModel. A bad-request or
 * not-found ApiError in words when it is not one.
 */
export async function readOnnxModelFile(file: string): Promise<ReadOnnxModel> {
  const absolute = path.resolve(file);
  const bytes = await readNamedFile(absolute, READ_LIMITS.onnxModel, 'an ONNX model');
  try {
    return { graph: readOnnxGraphInfo(bytes), bytes };
  } catch (error) {
    throw new ApiError('bad-request', `${absolute} is ${(error as Error).message}`);
  }
}

/** Reads an ONNX file's declared interface; a bad-request ApiError when it is not one. */
export async function inspectOnnxFile(file: string): Promise<OnnxGraphInfo> {
  return (await readOnnxModelFile(file)).graph;
}

/** A description beside a model is a few kilobytes; anything larger is not one. */
const CONFIG_BESIDE_LIMIT = 1024 * 1024;

/**
 * The config in the `model.json` beside an ONNX file, so a form can fill itself from it: null when
 * there is no such file; `problem` says why one that is there cannot be used (read through the
 * guarded reader: a FIFO or device named model.json is refused, never waited on).
 */
export async function readConfigBeside(
  onnxFile: string,
): Promise<NonNullable<OnnxGraphInfo['beside']> | null> {
  const file = path.join(path.dirname(path.resolve(onnxFile)), 'model.json');
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return null;
  }
  if (!stat.isFile()) return { file, config: null, problem: 'it is not a regular file' };
  if (stat.size > CONFIG_BESIDE_LIMIT)
    return { file, config: null, problem: `it is ${stat.size} bytes, not a model description` };
  try {
    return { file, config: await readConfigFile(file), problem: null };
  } catch (error) {
    return { file, config: null, problem: (error as Error).message };
  }
}

/** A config from a JSON file (a plain config, or the model.json `qataseg export-model` writes). */
export async function readConfigFile(file: string): Promise<ExternalModelConfig> {
  const absolute = path.resolve(file);
  const bytes = await readNamedFile(absolute, READ_LIMITS.config, 'a model config');
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new ApiError(
      'bad-request',
      `cannot read the config ${file}: ${(error as Error).message}`,
    );
  }
  return parseConfig(raw);
}

export function parseConfig(raw: unknown): ExternalModelConfig {
  const parsed = externalModelConfigSchema.safeParse(raw);
  if (!parsed.success)
    throw new ApiError(
      'bad-request',
      `config: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/** Held in a version folder while an add or an import of predictions fills it: the pid. */
export const ADD_LOCK_FILE = 'add.lock';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A version folder an add left behind when its process died (killed mid-add, or before adds
 * locked their folder): no card, and no live add or training holds it.
 */
function abandonedVersionFolder(dir: string): boolean {
  if (fs.existsSync(path.join(dir, CARD_FILE))) return false;
  if (fs.existsSync(path.join(dir, TRAIN_LOCK_FILE))) return false;
  let holder: number;
  try {
    holder = Number(fs.readFileSync(path.join(dir, ADD_LOCK_FILE), 'utf8'));
  } catch {
    return true; // no lock: nothing is filling it
  }
  return !(Number.isInteger(holder) && holder > 0 && processAlive(holder));
}

/**
 * Claims a version folder: the name given (refused if taken; the folder of an add whose process
 * died is claimed again) or the next v<N>. The folder holds ADD_LOCK_FILE until its card is written.
 */
export function claimVersion(store: ProjectStore, name: string | undefined): string {
  const version = name ?? claimNextVersion(store);
  const dir = versionDir(store, version);
  if (name) {
    fs.mkdirSync(store.modelsDir, { recursive: true });
    try {
      fs.mkdirSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!abandonedVersionFolder(dir))
        throw new ApiError('conflict', `a model version ${name} exists already`);
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir);
    }
  }
  fs.writeFileSync(path.join(dir, ADD_LOCK_FILE), String(process.pid));
  return version;
}

/** The version's card is written: the folder is a version, no longer an add in progress. */
export function releaseVersionClaim(store: ProjectStore, version: string): void {
  fs.rmSync(path.join(versionDir(store, version), ADD_LOCK_FILE), { force: true });
}

/** The card of an external version from its test-split evaluation. */
export function externalCard(
  store: ProjectStore,
  version: string,
  source: Exclude<ModelSource, { kind: 'trained' }>,
  evaluation: PairEvaluation,
  seconds: number,
): ModelCard {
  const test = trainingPairs(store.db, { splits: ['test'], sources: ALL_LABEL_SOURCES });
  const onnx = source.kind === 'onnx';
  return {
    version,
    createdAt: new Date().toISOString(),
    parent: null,
    source,
    architecture: null,
    input: onnx
      ? { mode: inputMode(source.config), normalisation: source.config.input.scaling }
      : { mode: 'native', normalisation: '0..1' },
    backend: onnx ? 'onnxruntime' : null,
    ladder: [],
    hyperParameters: null,
    data: {
      labels: [],
      labelSetHash: '',
      splitHash: '',
      testSplitHash: testSplitHash(test),
      train: 0,
      val: 0,
      test: evaluation.perImage.length,
    },
    history: [],
    bestEpoch: 0,
    metrics: { val: null, test: evaluation.metrics },
    testPerImage: evaluation.perImage,
    durationSeconds: seconds,
    trainSeconds: 0,
    imagesPerSecond: seconds > 0 ? evaluation.perImage.length / seconds : 0,
  };
}

/** Runs the worker's evaluate job on the locked test split, relaying progress. */
export async function evaluateOnTestSplit(
  context: MlContext,
  reporter: JobReporter,
  params: Omit<
    EvaluateJobParams,
    'split' | 'threshold' | 'tile' | 'valFraction' | 'seed' | 'labels'
  > & {
    threshold: number;
  },
): Promise<PairEvaluation> {
  reporter.progress({ phase: 'testing on the locked test split', done: 0, total: null });
  const raw = (await context.worker.run(
    'evaluate',
    { ...params, split: 'test', tile: false, valFraction: 0, seed: 1, labels: ALL_LABEL_SOURCES },
    {
      signal: reporter.signal,
      onProgress: (progress) => {
        const p = progress as { done?: number; total?: number };
        reporter.progress({ done: p.done, total: p.total });
      },
    },
  )) as {
    metrics: Evaluation | null;
    perImage: Evaluation['perImage'];
    missing?: number;
    skipped?: PairEvaluation['skipped'];
  };
  return {
    metrics: raw.metrics,
    perImage: raw.perImage,
    missing: raw.missing,
    skipped: raw.skipped ?? [],
  };
}

export interface AddModelInput {
  path: string;
  name?: string;
  config: ExternalModelConfigInput;
}

/**
 * Registers an external ONNX model as a version: checks the config against the graph up front
 * (refusing with every reason), then runs the add-model job. Resolves with the started job.
 */
export async function startAddModel(context: MlContext, input: AddModelInput): Promise<Job> {
  const store = context.project();
  const file = resolveUserPath(input.path, store.dir);
  const { graph, bytes } = await readOnnxModelFile(file);
  const config = parseConfig(input.config);
  const fits = checkConfig(config, graph);
  if (!fits.ok)
    throw new ApiError(
      'bad-request',
      `the model does not fit the config: ${fits.problems.join('; ')}`,
    );
  const memory = tensorMemoryProblem(config);
  if (memory) throw new ApiError('bad-request', `the model cannot run here: ${memory}`);
  const version = claimVersion(store, input.name);
  const dir = versionDir(store, version);
  return context.jobs.start('add-model', async (reporter) => {
    const started = performance.now();
    try {
      reporter.progress({ phase: 'copying the model', detail: { version, file } });
      const copy = path.join(dir, EXTERNAL_MODEL_FILE);
      // The bytes checked above, not the file again: it may have been replaced since.
      await fsp.writeFile(copy, bytes);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      reporter.progress({ phase: 'running one image through the model' });
      const external = { file: copy, config };
      const checked = (await context.worker
        .run('external.check', external, { signal: reporter.signal })
        .catch((error: unknown) => {
          if (reporter.signal.aborted) throw error;
          // The worker says which: onnxruntime could not load it, or its output does not fit.
          throw new RefusedError(error instanceof Error ? error.message : String(error));
        })) as { input: number[]; output: number[] };
      const evaluation = await evaluateOnTestSplit(context, reporter, {
        projectDir: store.dir,
        modelDir: dir,
        size: 0,
        threshold: config.output.threshold,
        external,
      });
      const card = externalCard(
        store,
        version,
        {
          kind: 'onnx',
          path: file,
          file: path.basename(file),
          bytes: graph.bytes,
          sha256,
          addedAt: new Date().toISOString(),
          graph,
          config,
        },
        evaluation,
        (performance.now() - started) / 1000,
      );
      writeCard(store, card);
      releaseVersionClaim(store, version);
      context.emit('models.changed', { active: activeVersion(store) });
      context.emit('project.changed', context.projectState());
      reporter.progress({ phase: 'done', detail: { version } });
      return addModelResultSchema.parse({
        version,
        testDice: card.metrics.test?.dice ?? null,
        testImages: card.data.test,
        checked,
      });
    } catch (error) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  });
}
