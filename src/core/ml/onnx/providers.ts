/**
 * GPUs through onnxruntime-node's execution providers, with no CUDA toolkit of ours: DirectML
 * ships inside its Windows build, CoreML inside its macOS build, and CUDA 12's provider loads where
 * its library and CUDA 12 + cuDNN 9 are installed. A provider is admitted to the ladder only after
 * a self-check: one training step and one inference of a small U-Net, each within a relative error
 * of 1e-3 of the CPU provider's result. Anything else is refused with the reason.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as OrtModule from 'onnxruntime-node';
import type { BackendName } from '../../../shared/contract';
import { Random } from '../../math/random';
import { buildInferenceGraph, buildTrainingGraph, unetParams } from './unet-graph';

const require = createRequire(import.meta.url);

type Ort = typeof OrtModule;
type SessionOptions = OrtModule.InferenceSession.SessionOptions;
type Feeds = Record<string, OrtModule.Tensor>;

/** What the self-check needs of a session; tests wrap real ones. */
export interface CheckSession {
  run(feeds: Feeds): Promise<Record<string, { data: unknown }>>;
  release(): Promise<void>;
}
export type SessionFactory = (bytes: Uint8Array, options: SessionOptions) => Promise<CheckSession>;

export type GpuProvider = 'cuda' | 'dml' | 'coreml';

export interface GpuRung {
  backend: BackendName;
  provider: GpuProvider;
  label: string;
  /** The platform whose onnxruntime-node build carries the provider. */
  platform: NodeJS.Platform;
}

export const GPU_RUNGS: readonly GpuRung[] = [
  { backend: 'onnxruntime-cuda', provider: 'cuda', label: 'CUDA 12', platform: 'linux' },
  { backend: 'onnxruntime-directml', provider: 'dml', label: 'DirectML', platform: 'win32' },
  { backend: 'onnxruntime-coreml', provider: 'coreml', label: 'CoreML', platform: 'darwin' },
];

/** The largest relative error against the CPU result that admits a provider. */
export const SELF_CHECK_TOLERANCE = 1e-3;

/** A provider the ladder cannot use here: `absent` ones are not part of this build at all. */
export class ProviderRefused extends Error {
  constructor(
    message: string,
    readonly absent: boolean,
  ) {
    super(message);
    this.name = 'ProviderRefused';
  }
}

function ortVersion(): string {
  return (require('onnxruntime-node/package.json') as { version: string }).version;
}

/** The folder of onnxruntime-node's native binding for this platform. */
function bindingDir(): string {
  const packageDir = path.dirname(require.resolve('onnxruntime-node/package.json'));
  return path.join(packageDir, 'bin', 'napi-v6', process.platform, process.arch);
}

const CUDA_LIBRARY: Partial<Record<NodeJS.Platform, string>> = {
  linux: 'libonnxruntime_providers_cuda.so',
  win32: 'onnxruntime_providers_cuda.dll',
};

/**
 * Why this installation cannot offer the provider without trying it, or null when it may. The
 * reasons name what is missing and how it would come, since "backend not found" tells a user
 * nothing.
 */
export function providerAbsence(ort: Ort, rung: GpuRung): string | null {
  const build = `onnxruntime-node ${ortVersion()} for ${process.platform}-${process.arch}`;
  const listed = ort.listSupportedBackends().find((backend) => backend.name === rung.provider);
  if (!listed) {
    return rung.provider === 'cuda'
      ? `${build} has no CUDA provider (it exists for linux-x64 and win32-x64)`
      : `${build} has no ${rung.label} provider (it ships in the ${rung.platform} build only)`;
  }
  if (rung.provider === 'cuda' && !listed.bundled) {
    const library = CUDA_LIBRARY[process.platform];
    if (library && !fs.existsSync(path.join(bindingDir(), library))) {
      return `the CUDA provider library (${library}) is not installed: onnxruntime-node downloads it with ONNXRUNTIME_NODE_INSTALL=cuda12 (its install script, off in allowScripts), and it needs CUDA 12 with cuDNN 9`;
    }
  }
  return null;
}

function relativeError(candidate: ArrayLike<number>, reference: ArrayLike<number>): number {
  if (candidate.length !== reference.length) return Infinity;
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < reference.length; i++) {
    diff += (candidate[i] - reference[i]) ** 2;
    norm += reference[i] ** 2;
  }
  const error = Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-12);
  return Number.isNaN(error) ? Infinity : error;
}

/** A small U-Net (base 4, 32 px, batch 2) with seeded weights and inputs. */
function checkProblem() {
  const base = 4;
  const size = 32;
  const batch = 2;
  const random = new Random(0x5e1f);
  const weights = new Map<string, Float32Array>();
  for (const spec of unetParams(base)) {
    const count = spec.onnxShape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(count);
    const fanIn = spec.kind === 'kernel' ? count / spec.onnxShape[0] : 1;
    const scale = spec.kind === 'kernel' ? Math.sqrt(6 / fanIn) : 0.1;
    const around = /gamma|moving_variance/.test(spec.key) ? 1 : 0;
    for (let i = 0; i < count; i++) data[i] = around + random.uniform(-scale, scale);
    weights.set(spec.key, data);
  }
  const pixels = batch * size * size;
  const images = Float32Array.from({ length: pixels }, () => random.next());
  const masks = Float32Array.from(images, (value) => (value > 0.6 ? 1 : 0));
  return { base, size, batch, weights, images, masks };
}

async function withSession<T>(
  factory: SessionFactory,
  bytes: Uint8Array,
  options: SessionOptions,
  use: (session: CheckSession) => Promise<T>,
): Promise<T> {
  const session = await factory(bytes, options);
  try {
    return await use(session);
  } finally {
    await session.release();
  }
}

export interface SelfCheckResult {
  inferenceError: number;
  trainingError: number;
}

/**
 * Runs one inference and one training step on the provider and on the CPU provider and compares
 * them; throws ProviderRefused when either differs by more than the tolerance or fails to run.
 * `createSession` makes the candidate's sessions (tests inject a faulty one).
 */
export async function selfCheckProvider(
  ort: Ort,
  provider: string,
  createSession: SessionFactory = (bytes, options) => ort.InferenceSession.create(bytes, options),
): Promise<SelfCheckResult> {
  const problem = checkProblem();
  const shape = [problem.batch, 1, problem.size, problem.size];
  const cpu: SessionFactory = (bytes, options) => ort.InferenceSession.create(bytes, options);
  const onCpu: SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all' };
  const onCandidate: SessionOptions = { ...onCpu, executionProviders: [provider] };

  const inference = buildInferenceGraph({ base: problem.base, dropout: 0 }, problem.weights);
  const inferenceFeeds = (): Feeds => ({
    image: new ort.Tensor('float32', problem.images, shape),
  });
  const probabilities = (out: Record<string, { data: unknown }>) =>
    out.probabilities.data as Float32Array;

  const training = buildTrainingGraph({
    base: problem.base,
    dropout: 0,
    batch: problem.batch,
    size: problem.size,
    loss: 'bce-dice',
  });
  const trainingFeeds = (): Feeds => {
    const feeds: Feeds = {
      image: new ort.Tensor('float32', problem.images, shape),
      mask: new ort.Tensor('float32', problem.masks, shape),
    };
    for (const spec of training.trainable) {
      const data = problem.weights.get(spec.key) as Float32Array;
      feeds[spec.key] = new ort.Tensor('float32', data, spec.onnxShape);
    }
    return feeds;
  };
  // The loss and every gradient, as one vector.
  const stepResult = (out: Record<string, { data: unknown }>) => {
    const parts = [
      out.loss.data as Float32Array,
      ...training.trainable.map((spec) => out[`grad:${spec.key}`].data as Float32Array),
    ];
    return Float32Array.from(parts.flatMap((part) => Array.from(part)));
  };

  const reference = {
    inference: await withSession(cpu, inference, onCpu, async (s) =>
      probabilities(await s.run(inferenceFeeds())),
    ),
    training: await withSession(cpu, training.bytes, onCpu, async (s) =>
      stepResult(await s.run(trainingFeeds())),
    ),
  };
  let candidate: { inference: Float32Array; training: Float32Array };
  try {
    candidate = {
      inference: await withSession(createSession, inference, onCandidate, async (s) =>
        probabilities(await s.run(inferenceFeeds())),
      ),
      training: await withSession(createSession, training.bytes, onCandidate, async (s) =>
        stepResult(await s.run(trainingFeeds())),
      ),
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ProviderRefused((message.split('\n')[0] ?? message).trim(), false);
  }
  const result = {
    inferenceError: relativeError(candidate.inference, reference.inference),
    trainingError: relativeError(candidate.training, reference.training),
  };
  for (const [what, error] of [
    ['inference', result.inferenceError],
    ['training step', result.trainingError],
  ] as const) {
    if (!(error <= SELF_CHECK_TOLERANCE)) {
      throw new ProviderRefused(
        `self-check refused it: its ${what} differs from the CPU provider's by a relative error of ${error.toExponential(1)} (limit ${SELF_CHECK_TOLERANCE})`,
        false,
      );
    }
  }
  return result;
}
