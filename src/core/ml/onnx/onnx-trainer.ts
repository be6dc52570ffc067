/**
 * Training on onnxruntime: the training-step graph run in one session or split across replica
 * threads, with Adam and the batch norms' moving averages applied here in ONNX layout.
 */
import type * as OrtModule from 'onnxruntime-node';
import type * as tfTypes from '@tensorflow/tfjs';
import type { Ort, Tf } from '../tf';
import type { ModelRunner } from '../runner';
import { NCHWC_MIN_SIZE, nchwcBlockSize } from './nchwc';
import { combineStatistics, ReplicaPool, splitBatch } from './replicas';
import type { TensorData } from './replica-messages';
import { readOptimizerWeights, saveOptimizerWeights } from '../model-io';
import { Random } from '../../math/random';
import type { LossName } from '../losses';
import { BN_MOMENTUM } from '../unet';
import {
  buildTrainingGraph,
  kernelToOnnx,
  kernelToTfjs,
  unetParams,
  type ParamSpec,
  type TrainGraph,
} from './unet-graph';
import {
  currentExecutionProvider,
  modelBase,
  onnxReplicas,
  onnxThreads,
  readWeights,
  sessionOptions,
  weightsRunner,
  writeWeights,
} from './runtime';

type Session = OrtModule.InferenceSession;

/** Copies of the weights on one SharedArrayBuffer, which threads read without a copy per post. */
function sharedCopies(
  specs: { key: string }[],
  weights: Map<string, Float32Array>,
): Map<string, Float32Array> {
  const lengths = specs.map((spec) => weights.get(spec.key)?.length ?? 0);
  const buffer = new SharedArrayBuffer(4 * lengths.reduce((a, b) => a + b, 0));
  const copies = new Map<string, Float32Array>();
  let offset = 0;
  specs.forEach((spec, index) => {
    copies.set(spec.key, new Float32Array(buffer, 4 * offset, lengths[index]));
    offset += lengths[index];
  });
  return copies;
}

/** Adam as tfjs implements it (bias correction by accumulated betas, epsilon 1e-7). */
const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

export interface StepInput {
  images: Float32Array;
  masks: Float32Array;
  pixelWeights: Float32Array | null;
  count: number;
  /** Seeds the dropout mask of this step. */
  seed: number;
}

/** What a step graph gives back, by output name. */
type StepOutputs = Record<string, TensorData>;

/**
 * Training on onnxruntime: one session per batch size runs the training-step graph (or, with
 * replicas, one session per part of the batch on its own thread); Adam and the batch norms'
 * moving averages are updated here, in ONNX layout, then copied into the tfjs model whenever it
 * is saved.
 */
export class OnnxTrainer {
  private readonly params: ParamSpec[];
  private readonly trainable: ParamSpec[];
  private readonly weights: Map<string, Float32Array>;
  private readonly firstMoments = new Map<string, Float32Array>();
  private readonly secondMoments = new Map<string, Float32Array>();
  private live: { batch: number; entry: Promise<{ session: Session; graph: TrainGraph }> } | null =
    null;
  private replicas: {
    pool: ReplicaPool;
    sizes: string;
    graph: TrainGraph;
    /** The weights on shared memory, which the replicas copy at each run. */
    mirror: Map<string, Float32Array>;
  } | null = null;
  private readonly replicaCount: number;
  /** Why steps run in one session although replicas were asked for (a thread failed). */
  replicaFallback: string | null = null;
  private readonly stepCounts = { replicated: 0, single: 0 };
  private readonly base: number;
  private iterations = 0;

  constructor(
    private readonly ort: Ort,
    private readonly tf: Tf,
    private readonly model: tfTypes.LayersModel,
    private readonly config: {
      size: number;
      loss: LossName;
      dropout: number;
      learningRate: number;
      /** Parts a batch is split across (default onnxReplicas()); 1 runs it in one session. */
      replicas?: number;
    },
  ) {
    this.base = modelBase(model);
    this.params = unetParams(this.base);
    this.trainable = this.trainableOrder();
    this.weights = readWeights(model, this.params);
    this.replicaCount = config.replicas ?? onnxReplicas();
    for (const spec of this.trainable) {
      const length = this.weights.get(spec.key)?.length ?? 0;
      this.firstMoments.set(spec.key, new Float32Array(length));
      this.secondMoments.set(spec.key, new Float32Array(length));
    }
  }

  /** Trainable weights in the order of model.trainableWeights (Adam's checkpoint order). */
  private trainableOrder(): ParamSpec[] {
    const byKey = new Map(this.params.map((spec) => [spec.key, spec]));
    return this.model.trainableWeights.map((weight) => {
      const spec = byKey.get(weight.originalName);
      if (!spec)
        throw new Error(`the model has a weight the ONNX U-Net lacks: ${weight.originalName}`);
      return spec;
    });
  }

  /** The training-step graph of a batch size. */
  private async graph(batch: number): Promise<TrainGraph> {
    // The blocked convolutions are CPU kernels: another provider keeps the NCHW graph.
    const nchwcBlock = currentExecutionProvider() === 'cpu' ? await nchwcBlockSize(this.ort) : null;
    return buildTrainingGraph({
      base: this.base,
      dropout: this.config.dropout,
      batch,
      size: this.config.size,
      loss: this.config.loss,
      ...(nchwcBlock ? { nchwcBlock, nchwcMinSize: NCHWC_MIN_SIZE } : {}),
    });
  }

  /**
   * The step session of a batch size. One lives at a time: each holds its own memory arena (about
   * 2 GB at 256 px, base 16, batch 4), and the smaller last batch of an epoch would otherwise
   * double the peak; rebuilding costs a fraction of a second per epoch.
   */
  private async session(batch: number): Promise<{ session: Session; graph: TrainGraph }> {
    const current = this.live;
    if (current?.batch === batch) return current.entry;
    this.live = null;
    if (current) await (await current.entry).session.release();
    // The replicas' sessions go too (their threads stay for the next full batch).
    const replicas = this.replicas;
    if (replicas) {
      replicas.sizes = '';
      await replicas.pool.release().catch(() => this.closeReplicas());
    }
    const entry = (async () => {
      const graph = await this.graph(batch);
      const session = await this.ort.InferenceSession.create(
        graph.bytes,
        sessionOptions('training'),
      );
      return { session, graph };
    })();
    this.live = { batch, entry };
    return entry;
  }

  /** The replica threads, each holding the step session of its part's size. */
  private async replicaSessions(
    sizes: number[],
  ): Promise<{ pool: ReplicaPool; graph: TrainGraph; mirror: Map<string, Float32Array> }> {
    const key = sizes.join(',');
    if (this.replicas?.sizes === key) return this.replicas;
    // One set of sessions at a time, as in session(): the single session goes first.
    const single = this.live;
    this.live = null;
    if (single) await (await single.entry).session.release();
    let pool = this.replicas?.pool;
    if (!pool || pool.size !== sizes.length) {
      await pool?.close();
      this.replicas = null;
      const started = ReplicaPool.start(sizes.length);
      if (typeof started === 'string') throw new Error(started);
      pool = started;
    }
    const graphs = new Map<number, TrainGraph>();
    for (const size of new Set(sizes)) graphs.set(size, await this.graph(size));
    const graph = graphs.get(sizes[0]) as TrainGraph;
    const mirror = this.replicas?.mirror ?? sharedCopies(graph.trainable, this.weights);
    const shared: Record<string, TensorData> = {};
    for (const spec of graph.trainable)
      shared[spec.key] = { data: mirror.get(spec.key) as Float32Array, dims: spec.onnxShape };
    const threads = Math.max(1, Math.floor(onnxThreads() / sizes.length));
    await pool.load(
      sizes.map((size) => (graphs.get(size) as TrainGraph).bytes),
      sessionOptions('training', threads),
      shared,
    );
    this.replicas = { pool, sizes: key, graph, mirror };
    return this.replicas;
  }

  /** One optimisation step; returns the batch's loss. */
  async step(input: StepInput): Promise<number> {
    const sizes = this.replicaFallback ? [input.count] : splitBatch(input.count, this.replicaCount);
    let outputs: StepOutputs | null = null;
    if (sizes.length > 1) {
      try {
        outputs = await this.replicatedOutputs(input, sizes);
        this.stepCounts.replicated++;
      } catch (error) {
        // The weights change only after the outputs are in, so the step runs again in one session.
        this.replicaFallback = error instanceof Error ? error.message : String(error);
        await this.closeReplicas();
      }
    }
    if (!outputs) {
      outputs = await this.singleOutputs(input);
      this.stepCounts.single++;
    }
    const loss = outputs.loss.data[0];
    if (!Number.isFinite(loss)) return loss;
    const out = outputs;
    this.applyAdam((key) => out[`grad:${key}`].data);
    for (const key of Object.keys(out)) {
      if (key.startsWith('batch_mean:'))
        this.moveAverage(`${key.slice('batch_mean:'.length)}/moving_mean`, out[key].data);
      else if (key.startsWith('batch_var:'))
        this.moveAverage(`${key.slice('batch_var:'.length)}/moving_variance`, out[key].data);
    }
    return loss;
  }

  /**
   * The step's feeds for images [from, from + count) of the batch; the weights too unless the
   * replicas hold them. `dropoutMask` is the whole batch's.
   */
  private feeds(
    input: StepInput,
    graph: TrainGraph,
    part: { from: number; count: number; dropoutMask: Float32Array | null; weights: boolean },
  ): StepOutputs {
    const { from, count, dropoutMask } = part;
    const { size } = this.config;
    const pixels = size * size;
    const imageDims = [count, 1, size, size];
    // Copies when a part (posted to a replica, whose clone would take the whole buffer).
    const slice = (array: Float32Array, length: number) =>
      count === input.count ? array : array.slice(from * length, (from + count) * length);
    const feeds: StepOutputs = {
      image: { data: slice(input.images, pixels), dims: imageDims },
      mask: { data: slice(input.masks, pixels), dims: imageDims },
    };
    if (graph.takesPixelWeights) {
      if (!input.pixelWeights) throw new Error('weighted-bce needs a weight map');
      feeds.pixel_weights = { data: slice(input.pixelWeights, pixels), dims: imageDims };
    }
    if (graph.dropoutMaskShape && dropoutMask) {
      const [, ...perImage] = graph.dropoutMaskShape;
      const length = perImage.reduce((a, b) => a * b, 1);
      feeds.dropout_mask = { data: slice(dropoutMask, length), dims: [count, ...perImage] };
    }
    if (part.weights)
      for (const spec of graph.trainable)
        feeds[spec.key] = { data: this.weight(spec.key), dims: spec.onnxShape };
    return feeds;
  }

  /** The whole batch's dropout mask from the step's seed (so a split does not change it). */
  private dropoutMask(input: StepInput, graph: TrainGraph): Float32Array | null {
    if (!graph.dropoutMaskShape) return null;
    const [, ...perImage] = graph.dropoutMaskShape;
    const mask = new Float32Array(input.count * perImage.reduce((a, b) => a * b, 1));
    const random = new Random(input.seed);
    const keep = 1 - this.config.dropout;
    for (let i = 0; i < mask.length; i++) mask[i] = random.next() < keep ? 1 / keep : 0;
    return mask;
  }

  private async singleOutputs(input: StepInput): Promise<StepOutputs> {
    const { ort } = this;
    const { session, graph } = await this.session(input.count);
    const feeds: Record<string, OrtModule.Tensor> = {};
    const part = {
      from: 0,
      count: input.count,
      dropoutMask: this.dropoutMask(input, graph),
      weights: true,
    };
    for (const [name, tensor] of Object.entries(this.feeds(input, graph, part)))
      feeds[name] = new ort.Tensor('float32', tensor.data, tensor.dims);
    const out = await session.run(feeds);
    const outputs: StepOutputs = {};
    for (const [name, tensor] of Object.entries(out))
      outputs[name] = { data: tensor.data as Float32Array, dims: [...tensor.dims] };
    return outputs;
  }

  /** The parts' outputs combined as the whole batch's: loss, gradients and batch statistics. */
  private async replicatedOutputs(input: StepInput, sizes: number[]): Promise<StepOutputs> {
    const { pool, graph, mirror } = await this.replicaSessions(sizes);
    for (const [key, data] of mirror) data.set(this.weight(key));
    const dropoutMask = this.dropoutMask(input, graph);
    let from = 0;
    const feeds = sizes.map((count) => {
      const part = this.feeds(input, graph, { from, count, dropoutMask, weights: false });
      from += count;
      return part;
    });
    const parts = await pool.run(feeds);
    const shares = sizes.map((count) => count / input.count);
    const combined: StepOutputs = {};
    for (const name of Object.keys(parts[0])) {
      if (name.startsWith('batch_var:')) continue;
      if (name.startsWith('batch_mean:')) {
        const layer = name.slice('batch_mean:'.length);
        const { mean, variance } = combineStatistics(
          parts.map((part, index) => ({
            mean: part[name].data,
            variance: part[`batch_var:${layer}`].data,
            share: shares[index],
          })),
        );
        combined[name] = { data: mean, dims: parts[0][name].dims };
        combined[`batch_var:${layer}`] = { data: variance, dims: parts[0][name].dims };
        continue;
      }
      // The loss and the gradients: the mean over the batch is the parts' means by their shares
      // (summed into the first part's array, which this thread owns).
      const sum = parts[0][name].data;
      for (let i = 0; i < sum.length; i++) sum[i] *= shares[0];
      parts.slice(1).forEach((part, index) => {
        const data = part[name].data;
        const share = shares[index + 1];
        for (let i = 0; i < sum.length; i++) sum[i] += share * data[i];
      });
      combined[name] = parts[0][name];
    }
    return combined;
  }

  /** How the steps so far ran: split across replicas or in one session, and why if replicas failed. */
  parallelism(): string {
    const { replicated, single } = this.stepCounts;
    const total = replicated + single;
    return (
      `${replicated} of ${total} steps split across replica threads, ${single} in one session of ` +
      `${onnxThreads()} thread(s)` +
      (this.replicaFallback ? ` (replicas failed: ${this.replicaFallback})` : '')
    );
  }

  private async closeReplicas(): Promise<void> {
    const replicas = this.replicas;
    this.replicas = null;
    if (!replicas) return;
    // Released before the threads end, so each session frees its arena (and writes its profile).
    await replicas.pool.release().catch(() => undefined);
    await replicas.pool.close();
  }

  private weight(key: string): Float32Array {
    const data = this.weights.get(key);
    if (!data) throw new Error(`missing weight ${key}`);
    return data;
  }

  private applyAdam(gradientOf: (key: string) => Float32Array): void {
    const { beta1, beta2, epsilon } = ADAM;
    const lr = this.config.learningRate;
    const correction1 = 1 - beta1 ** (this.iterations + 1);
    const correction2 = 1 - beta2 ** (this.iterations + 1);
    for (const spec of this.trainable) {
      const value = this.weight(spec.key);
      const gradient = gradientOf(spec.key);
      const m = this.firstMoments.get(spec.key) as Float32Array;
      const v = this.secondMoments.get(spec.key) as Float32Array;
      for (let i = 0; i < value.length; i++) {
        const g = gradient[i];
        m[i] = m[i] * beta1 + g * (1 - beta1);
        v[i] = v[i] * beta2 + g * g * (1 - beta2);
        value[i] -= (lr * (m[i] / correction1)) / (Math.sqrt(v[i] / correction2) + epsilon);
      }
    }
    this.iterations += 1;
  }

  /** tfjs-layers' moving average: moving -= (moving - batch) * (1 - momentum). */
  private moveAverage(key: string, batch: Float32Array): void {
    const moving = this.weight(key);
    for (let i = 0; i < moving.length; i++) moving[i] -= (moving[i] - batch[i]) * (1 - BN_MOMENTUM);
  }

  /** Copies the trained weights into the tfjs model (before saving or predicting with it). */
  commit(): void {
    writeWeights(this.tf, this.model, this.params, this.weights);
  }

  /** An inference runner of the current weights (for validation between epochs). */
  runner(batch: number): Promise<ModelRunner> {
    return weightsRunner(this.ort, this.base, this.weights, this.config.size, Math.max(batch, 8));
  }

  /** Saves Adam's state as tfjs's Adam names and orders it, so either engine can resume. */
  async saveOptimizer(dir: string): Promise<void> {
    const { tf } = this;
    const names = this.model.trainableWeights.map((weight) => weight.name);
    const moments = (table: Map<string, Float32Array>, suffix: string) =>
      this.trainable.map((spec, index) => {
        const data = table.get(spec.key) as Float32Array;
        return {
          name: `${names[index]}/${suffix}`,
          tensor: tf.tensor(
            spec.kind === 'kernel' ? kernelToTfjs(data, spec.tfjsShape) : data,
            spec.tfjsShape,
          ),
        };
      });
    const weights = [
      { name: 'iter', tensor: tf.scalar(this.iterations, 'int32') },
      ...moments(this.firstMoments, 'm'),
      ...moments(this.secondMoments, 'v'),
    ];
    try {
      await saveOptimizerWeights(tf, weights, dir);
    } finally {
      tf.dispose(weights.map((weight) => weight.tensor));
    }
  }

  /** Restores what saveOptimizer (or tfjs's Adam) saved; false when there is nothing. */
  async loadOptimizer(dir: string): Promise<boolean> {
    const weights = readOptimizerWeights(this.tf, dir);
    if (!weights) return false;
    try {
      const count = this.trainable.length;
      if (weights.length !== 2 * count + 1 || weights[0].name !== 'iter')
        throw new Error('the checkpoint optimizer does not match this model');
      this.iterations = weights[0].tensor.dataSync()[0];
      this.trainable.forEach((spec, index) => {
        const fromTfjs = (tensor: tfTypes.Tensor) => {
          const data = Float32Array.from(tensor.dataSync() as Float32Array);
          return spec.kind === 'kernel' ? kernelToOnnx(data, spec.tfjsShape) : data;
        };
        this.firstMoments.set(spec.key, fromTfjs(weights[1 + index].tensor));
        this.secondMoments.set(spec.key, fromTfjs(weights[1 + count + index].tensor));
      });
      return true;
    } finally {
      this.tf.dispose(weights.map((weight) => weight.tensor));
    }
  }

  async dispose(): Promise<void> {
    const current = this.live;
    this.live = null;
    if (current) await (await current.entry).session.release();
    await this.closeReplicas();
  }
}
