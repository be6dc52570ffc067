/**
 * Runs an external ONNX model on onnxruntime the way its config says: the gray image resized
 * (or tiled, or at native size), scaled, replicated into 1 or 3 channels in NCHW or NHWC; the
 * output's foreground channel through a sigmoid or softmax when it gives logits. Out comes the
 * same 8-bit probability map at the image's own resolution that the project's U-Net gives, so
 * prediction, evaluation and review treat both alike.
 */
import type * as OrtModule from 'onnxruntime-node';
import type { ExternalModelConfig } from '../../../shared/interop-schemas';
import { resizeGray } from '../data';
import type { Ort } from '../tf';
import { onnxThreads, sharedSessionConfig } from '../onnx/runtime';
import { overlapTile } from '../tile';
import { probabilitiesToBytes, toUnitFloat } from '../trainer';
import { inputMode, inputSize, tensorMemoryProblem } from './config';

interface GrayPixels {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Mean and standard deviation of the 0..1 values a z-score uses. */
interface Stats {
  mean: number;
  std: number;
}

function statsOf(values: Float32Array): Stats {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = values.length ? sum / values.length : 0;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  const std = values.length ? Math.sqrt(squares / values.length) : 0;
  return { mean, std: std > 1e-8 ? std : 1 };
}

/** Edge-replicates a row-major image to `width` x `height` (right and bottom). */
function padEdge(image: Float32Array, w: number, h: number, width: number, height: number) {
  if (w === width && h === height) return image;
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(y, h - 1);
    for (let x = 0; x < width; x++) out[y * width + x] = image[sy * w + Math.min(x, w - 1)];
  }
  return out;
}

function crop(image: Float32Array, width: number, w: number, h: number): Float32Array {
  if (width === w) return image.subarray(0, w * h);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) out.set(image.subarray(y * width, y * width + w), y * w);
  return out;
}

/** onnxruntime's refusal to load a model, in words: the operator it lacks, when that is why. */
export function describeLoadFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const operator = /([\w.]*):(\w+)\(-?\d+\) is not a registered function\/op/.exec(message);
  if (operator) {
    const domain = operator[1] ? ` of the domain ${operator[1]}` : '';
    return `onnxruntime cannot load the model: it uses the operator ${operator[2]}${domain}, which onnxruntime does not implement (${message})`;
  }
  return `onnxruntime cannot load the model: ${message}`;
}

export class ExternalModel {
  private constructor(
    private readonly ort: Ort,
    private readonly session: OrtModule.InferenceSession,
    private readonly config: ExternalModelConfig,
    private readonly inputName: string,
    private readonly outputName: string,
    /** Whether the graph takes more than one image per run. */
    private readonly batched: boolean,
  ) {}

  static async load(ort: Ort, file: string, config: ExternalModelConfig): Promise<ExternalModel> {
    let session: OrtModule.InferenceSession;
    try {
      session = await ort.InferenceSession.create(file, {
        intraOpNumThreads: onnxThreads(),
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        extra: sharedSessionConfig(),
      });
    } catch (error) {
      throw new Error(describeLoadFailure(error));
    }
    const inputName = config.input.name ?? session.inputNames[0];
    const outputName = config.output.name ?? session.outputNames[0];
    if (!session.inputNames.includes(inputName) || !session.outputNames.includes(outputName)) {
      await session.release();
      throw new Error(
        `the model has inputs ${session.inputNames.join(', ')} and outputs ${session.outputNames.join(', ')}; the config names ${inputName} and ${outputName}`,
      );
    }
    const metadata = session.inputMetadata.find((m) => m.name === inputName);
    const batch = metadata?.isTensor ? metadata.shape[0] : undefined;
    return new ExternalModel(ort, session, config, inputName, outputName, batch !== 1);
  }

  release(): Promise<void> {
    return this.session.release();
  }

  /** Runs one blank image of the configured size (64 px when dynamic): the output must fit. */
  async check(): Promise<{ input: number[]; output: number[] }> {
    const memory = tensorMemoryProblem(this.config);
    if (memory) throw new Error(`the model cannot run here: ${memory}`);
    const [h, w] = inputSize(this.config) ?? [64, 64];
    const multiple = this.config.input.multiple;
    const height = Math.ceil(h / multiple) * multiple;
    const width = Math.ceil(w / multiple) * multiple;
    let dims: number[];
    try {
      ({ dims } = await this.runBatch([new Float32Array(height * width).fill(0.5)], height, width));
    } catch (error) {
      throw new Error(
        `the model does not fit the config: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    return { input: this.inputDims(1, height, width), output: dims };
  }

  private inputDims(count: number, height: number, width: number): number[] {
    const c = this.config.input.channels;
    return this.config.input.layout === 'NCHW'
      ? [count, c, height, width]
      : [count, height, width, c];
  }

  /** Scales gray 0..1 images and packs them as the graph's input tensor. */
  private pack(images: Float32Array[], height: number, width: number, stats?: Stats): Float32Array {
    const { channels, layout, scaling } = this.config.input;
    const pixels = height * width;
    const out = new Float32Array(images.length * channels * pixels);
    images.forEach((image, b) => {
      const own = scaling === 'z-score' ? (stats ?? statsOf(image)) : null;
      for (let c = 0; c < channels; c++) {
        let scale = 1;
        let shift = 0;
        if (scaling === '-1..1') {
          scale = 2;
          shift = -1;
        } else if (own) {
          scale = 1 / own.std;
          shift = -own.mean / own.std;
        } else if (scaling === 'mean-std') {
          const std = this.config.input.std?.[c] ?? 1;
          scale = 1 / std;
          shift = -(this.config.input.mean?.[c] ?? 0) / std;
        }
        for (let i = 0; i < pixels; i++) {
          const value = image[i] * scale + shift;
          const index =
            layout === 'NCHW' ? (b * channels + c) * pixels + i : (b * pixels + i) * channels + c;
          out[index] = value;
        }
      }
    });
    return out;
  }

  /** Foreground probabilities of each image of a run's output. */
  private unpack(
    output: OrtModule.Tensor,
    count: number,
    height: number,
    width: number,
  ): Float32Array[] {
    const { classes, foreground, activation } = this.config.output;
    const dims = output.dims;
    const nchw = this.config.input.layout === 'NCHW';
    let channels: number;
    let spatial: number[];
    if (dims.length === 4) {
      channels = nchw ? dims[1] : dims[3];
      spatial = nchw ? [dims[2], dims[3]] : [dims[1], dims[2]];
    } else if (dims.length === 3) {
      channels = 1;
      spatial = [dims[1], dims[2]];
    } else {
      throw new Error(`the output has shape [${dims.join(', ')}]; expected rank 4 (or 3)`);
    }
    if (dims[0] !== count)
      throw new Error(
        `the output holds ${dims[0]} images for ${count} in (shape [${dims.join(', ')}])`,
      );
    if (spatial[0] !== height || spatial[1] !== width)
      throw new Error(
        `the output is ${spatial[1]}x${spatial[0]} for a ${width}x${height} input (shape [${dims.join(', ')}]); the output must have the input's size`,
      );
    if (channels !== classes)
      throw new Error(
        `the output has ${channels} channel(s) (shape [${dims.join(', ')}], ${this.config.input.layout}) but the config says ${classes} class(es)`,
      );
    if (output.type !== 'float32') throw new Error(`the output is ${output.type}, not float32`);
    const data = output.data as Float32Array;
    const pixels = height * width;
    const at = (b: number, c: number, i: number) =>
      nchw || dims.length === 3
        ? data[(b * channels + c) * pixels + i]
        : data[(b * pixels + i) * channels + c];
    return Array.from({ length: count }, (_, b) => {
      const out = new Float32Array(pixels);
      for (let i = 0; i < pixels; i++) {
        if (channels === 1) {
          const v = at(b, 0, i);
          out[i] = activation === 'logits' ? 1 / (1 + Math.exp(-v)) : v;
        } else if (activation === 'probabilities') {
          out[i] = at(b, foreground, i);
        } else {
          let max = -Infinity;
          for (let c = 0; c < channels; c++) max = Math.max(max, at(b, c, i));
          let sum = 0;
          for (let c = 0; c < channels; c++) sum += Math.exp(at(b, c, i) - max);
          out[i] = Math.exp(at(b, foreground, i) - max) / sum;
        }
      }
      return out;
    });
  }

  /** Runs gray 0..1 images of one size (in one run when the graph's batch allows). */
  private async runBatch(
    images: Float32Array[],
    height: number,
    width: number,
    stats?: Stats,
  ): Promise<{ probabilities: Float32Array[]; dims: number[] }> {
    const groups = this.batched ? [images] : images.map((image) => [image]);
    const probabilities: Float32Array[] = [];
    let dims: number[] = [];
    for (const group of groups) {
      const tensor = new this.ort.Tensor(
        'float32',
        this.pack(group, height, width, stats),
        this.inputDims(group.length, height, width),
      );
      const result = await this.session.run({ [this.inputName]: tensor });
      const output = result[this.outputName];
      dims = [...output.dims];
      probabilities.push(...this.unpack(output, group.length, height, width));
    }
    return { probabilities, dims };
  }

  /** 0..255 foreground probability of every pixel of a gray image, at its own resolution. */
  async predict(image: GrayPixels): Promise<Uint8Array> {
    const mode = inputMode(this.config);
    const size = inputSize(this.config);
    if (mode === 'tile' && size) {
      const full = toUnitFloat(image.data);
      const stats = this.config.input.scaling === 'z-score' ? statsOf(full) : undefined;
      const probabilities = await overlapTile(
        full,
        image.width,
        image.height,
        async (tiles) => (await this.runBatch(tiles, size[0], size[0], stats)).probabilities,
        { size: size[0] },
      );
      return probabilitiesToBytes(probabilities);
    }
    if (mode === 'resize' && size) {
      const [h, w] = size;
      const resized = await resizeGray(image.data, image.width, image.height, w, h, 'linear');
      const { probabilities } = await this.runBatch([toUnitFloat(resized)], h, w);
      const bytes = probabilitiesToBytes(probabilities[0]);
      return resizeGray(bytes, w, h, image.width, image.height, 'linear');
    }
    const multiple = this.config.input.multiple;
    const height = Math.ceil(image.height / multiple) * multiple;
    const width = Math.ceil(image.width / multiple) * multiple;
    const padded = padEdge(toUnitFloat(image.data), image.width, image.height, width, height);
    // z-score statistics of the image itself, not of its padding.
    const stats = statsOf(toUnitFloat(image.data));
    const { probabilities } = await this.runBatch([padded], height, width, stats);
    return probabilitiesToBytes(crop(probabilities[0], width, image.width, image.height));
  }
}
