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
import type { JobReporter } from '../../job-reporter';
import { trainingPairs } from '../../project/masks';
import type { ProjectStore } from '../../project/store';
import type { MlContext } from '../ml-context';
import { ALL_LABEL_SOURCES, testSplitHash } from '../data';
import type { PairEvaluation } from '../infer';
import type { EvaluateJobParams } from '../job-params';
import { readOnnxGraphInfo } from '../onnx/reader';
import {
  activeVersion,
  claimNextVersion,
  EXTERNAL_MODEL_FILE,
  versionDir,
  writeCard,
} from '../versions';
import { checkConfig, inputMode } from './config';

/** Reads an ONNX file's declared interface; a bad-request ApiError when it is not one. */
export async function inspectOnnxFile(file: string): Promise<OnnxGraphInfo> {
  const absolute = path.resolve(file);
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ApiError(
      code === 'ENOENT' ? 'not-found' : 'bad-request',
      code === 'ENOENT' ? `no file ${absolute}` : `cannot read ${absolute}: ${String(error)}`,
    );
  }
  try {
    return readOnnxGraphInfo(bytes);
  } catch (error) {
    throw new ApiError('bad-request', `${absolute} is ${(error as Error).message}`);
  }
}

/** A description beside a model is a few kilobytes; anything larger is not one. */
const CONFIG_BESIDE_LIMIT = 1024 * 1024;

/**
 * The config in the `model.json` beside an ONNX file, so a form can fill itself from it: null when
 * there is no such file; `problem` says why one that is there cannot be used.
 */
export function readConfigBeside(onnxFile: string): NonNullable<OnnxGraphInfo['beside']> | null {
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
    return { file, config: readConfigFile(file), problem: null };
  } catch (error) {
    return { file, config: null, problem: (error as Error).message };
  }
}

/** A config from a JSON file (a plain config, or the model.json `qataseg export-model` writes). */
export function readConfigFile(file: string): ExternalModelConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(path.resolve(file), 'utf8'));
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

/** Claims a version folder: the name given (refused if taken) or the next v<N>. */
export function claimVersion(store: ProjectStore, name: string | undefined): string {
  if (!name) return claimNextVersion(store);
  const dir = versionDir(store, name);
  fs.mkdirSync(store.modelsDir, { recursive: true });
  try {
    fs.mkdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      throw new ApiError('conflict', `a model version ${name} exists already`);
    throw error;
  }
  return name;
}

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    fs.createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
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
  const file = path.resolve(input.path);
  const graph = await inspectOnnxFile(file);
  const config = parseConfig(input.config);
  const fits = checkConfig(config, graph);
  if (!fits.ok)
    throw new ApiError(
      'bad-request',
      `the model does not fit the config: ${fits.problems.join('; ')}`,
    );
  const version = claimVersion(store, input.name);
  const dir = versionDir(store, version);
  return context.jobs.start('add-model', async (reporter) => {
    const started = performance.now();
    try {
      reporter.progress({ phase: 'copying the model', detail: { version, file } });
      const copy = path.join(dir, EXTERNAL_MODEL_FILE);
      await fsp.copyFile(file, copy);
      const sha256 = await sha256File(copy);
      reporter.progress({ phase: 'running one image through the model' });
      const external = { file: copy, config };
      const checked = (await context.worker
        .run('external.check', external, { signal: reporter.signal })
        .catch((error: unknown) => {
          if (reporter.signal.aborted) throw error;
          throw new Error(
            `the model does not fit the config: ${error instanceof Error ? error.message : String(error)}`,
          );
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
