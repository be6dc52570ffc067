/**
 * An external ONNX model's config against its graph: which input and output it uses and whether
 * their declared shapes fit what the config says (layout, channels, size, classes). Every refusal
 * says why in words a user can act on. Nothing is ever guessed: a model without a config gets its
 * graph's shapes shown and a template to fill in.
 */
import type {
  ExternalModelConfig,
  OnnxGraphInfo,
  OnnxValueInfo,
} from '../../../shared/interop-schemas';
import { formatDims } from '../onnx/reader';

export type InputMode = 'resize' | 'tile' | 'native';

/** The config's input size as [height, width], or null when dynamic. */
export function inputSize(config: ExternalModelConfig): [number, number] | null {
  const size = config.input.size;
  if (size === 'dynamic') return null;
  return typeof size === 'number' ? [size, size] : size;
}

export function inputMode(config: ExternalModelConfig): InputMode {
  return config.input.mode ?? (config.input.size === 'dynamic' ? 'native' : 'resize');
}

/** "256x256 resize", "dynamic native (multiple of 32)". */
export function describeInput(config: ExternalModelConfig): string {
  const size = inputSize(config);
  const mode = inputMode(config);
  if (!size)
    return `dynamic ${mode}${config.input.multiple > 1 ? ` (multiple of ${config.input.multiple})` : ''}`;
  return `${size[1]}x${size[0]} ${mode}`;
}

export interface ResolvedGraph {
  input: OnnxValueInfo;
  output: OnnxValueInfo;
}

function pick(
  values: OnnxValueInfo[],
  name: string | undefined,
  what: 'input' | 'output',
): OnnxValueInfo | string {
  const list = values.map((v) => `'${v.name}' ${formatDims(v.dims)}`).join(', ');
  if (name) {
    const found = values.find((v) => v.name === name);
    return found ?? `the graph has no ${what} '${name}' (its ${what}s: ${list || 'none'})`;
  }
  if (values.length === 1) return values[0];
  if (values.length === 0) return `the graph declares no ${what}`;
  return `the graph has ${values.length} ${what}s (${list}): name the one to use in ${what}.name`;
}

/**
 * Checks a config against the declared graph. Returns the input and output it uses, or every
 * reason it does not fit.
 */
export function checkConfig(
  config: ExternalModelConfig,
  graph: OnnxGraphInfo,
): { ok: true; resolved: ResolvedGraph } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const input = pick(graph.inputs, config.input.name, 'input');
  const output = pick(graph.outputs, config.output.name, 'output');
  if (typeof input === 'string') problems.push(input);
  if (typeof output === 'string') problems.push(output);
  const mode = inputMode(config);
  const size = inputSize(config);
  if (mode === 'tile' && size && size[0] !== size[1])
    problems.push(`tile mode needs a square input, the config says ${size[1]}x${size[0]}`);

  if (typeof input !== 'string') {
    const where = `input '${input.name}' ${formatDims(input.dims)}`;
    if (input.type !== 'float')
      problems.push(`${where} takes ${input.type}; only float32 inputs are supported`);
    const dims = input.dims;
    if (dims && dims.length !== 4) {
      problems.push(
        `${where} has rank ${dims.length}; an image input is rank 4 (${config.input.layout})`,
      );
    } else if (dims) {
      const nchw = config.input.layout === 'NCHW';
      const channelAxis = nchw ? 1 : 3;
      const spatial = nchw ? [dims[2], dims[3]] : [dims[1], dims[2]];
      const channels = dims[channelAxis];
      if (typeof channels === 'number' && channels !== config.input.channels) {
        const other = nchw ? dims[3] : dims[1];
        const hint =
          other === config.input.channels ? `; the graph looks ${nchw ? 'NHWC' : 'NCHW'}` : '';
        problems.push(
          `${where}: ${config.input.layout} puts channels on axis ${channelAxis}, which is ${channels} here, but the config says ${config.input.channels}${hint}`,
        );
      }
      const batch = dims[0];
      if (typeof batch === 'number' && batch !== 1)
        problems.push(
          `${where}: the batch is fixed at ${batch}; only 1 or a dynamic batch is supported`,
        );
      // The other layout's channel axis fixed at 1 or 3 while ours is not: likely the wrong layout.
      const otherChannels = nchw ? dims[3] : dims[1];
      const layoutHint =
        typeof channels !== 'number' && (otherChannels === 1 || otherChannels === 3)
          ? `; axis ${nchw ? 3 : 1} is fixed at ${otherChannels}: is the layout ${nchw ? 'NHWC' : 'NCHW'}?`
          : '';
      spatial.forEach((d, axis) => {
        if (typeof d !== 'number') return;
        const side = axis === 0 ? 'height' : 'width';
        if (!size)
          problems.push(
            `${where}: its ${side} (${config.input.layout}) is fixed at ${d}, but the config says dynamic${layoutHint}`,
          );
        else if (d !== size[axis])
          problems.push(
            `${where}: its ${side} (${config.input.layout}) is ${d}, but the config says ${size[axis]}${layoutHint}`,
          );
      });
    }
  }

  if (typeof output !== 'string') {
    const where = `output '${output.name}' ${formatDims(output.dims)}`;
    if (output.type !== 'float')
      problems.push(`${where} is ${output.type}; only float32 outputs are supported`);
    const dims = output.dims;
    if (dims && dims.length === 4) {
      const channelAxis = config.input.layout === 'NCHW' ? 1 : 3;
      const channels = dims[channelAxis];
      if (typeof channels === 'number' && channels !== config.output.classes)
        problems.push(
          `${where}: axis ${channelAxis} (channels, ${config.input.layout}) is ${channels}, but the config says ${config.output.classes} class(es)`,
        );
    } else if (dims && dims.length === 3) {
      if (config.output.classes !== 1)
        problems.push(
          `${where} has no channel axis, but the config says ${config.output.classes} classes`,
        );
    } else if (dims) {
      problems.push(
        `${where} has rank ${dims.length}; a segmentation output is rank 4 (or 3 with one channel)`,
      );
    }
  }
  if (problems.length > 0 || typeof input === 'string' || typeof output === 'string')
    return { ok: false, problems };
  return { ok: true, resolved: { input, output } };
}

/**
 * The most the input and output tensors of one run may take. The model's own activations come on
 * top (a U-Net's are several times its input), so this is a floor the worker can check before
 * allocating anything: [1,1,30000,30000] grew the worker past 5.9 GB.
 */
export const MAX_TENSOR_BYTES = 1024 ** 3;

const gibibytes = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;

/** Why one run of the configured input size cannot fit in memory, or null when it can. */
export function tensorMemoryProblem(config: ExternalModelConfig): string | null {
  const size = inputSize(config);
  if (!size) return null; // dynamic: the images decide, and import limits their size
  const multiple = config.input.multiple;
  const [height, width] = size.map((side) => Math.ceil(side / multiple) * multiple);
  const { channels } = config.input;
  const { classes } = config.output;
  const bytes = (channels + classes) * height * width * Float32Array.BYTES_PER_ELEMENT;
  if (bytes <= MAX_TENSOR_BYTES) return null;
  return `an input of ${width}x${height} with ${channels} channel(s) and its output of ${classes} class(es) take ${gibibytes(bytes)} as float32, before the model's own activations; the limit is ${gibibytes(MAX_TENSOR_BYTES)} (a model for images of this project takes a smaller input, or a dynamic one)`;
}

/** The graph's interface in a few lines, for a user deciding the config. */
export function describeGraph(graph: OnnxGraphInfo): string[] {
  const opsets = graph.opsets.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ');
  return [
    `producer ${graph.producer || 'unknown'}, IR ${graph.irVersion}, opsets ${opsets}, ${graph.nodes} nodes`,
    ...graph.inputs.map((v) => `input  '${v.name}' ${v.type} ${formatDims(v.dims)}`),
    ...graph.outputs.map((v) => `output '${v.name}' ${v.type} ${formatDims(v.dims)}`),
  ];
}

/** A config for the user to complete: the graph's names filled in, every choice left open. */
export function configTemplate(graph: OnnxGraphInfo): Record<string, unknown> {
  return {
    input: {
      name: graph.inputs[0]?.name ?? '?',
      layout: 'NCHW | NHWC',
      channels: '1 | 3',
      size: '<height and width, e.g. 256 or [256, 320]> | "dynamic"',
      scaling: '0..1 | -1..1 | z-score | mean-std (then mean and std per channel)',
    },
    output: {
      name: graph.outputs[0]?.name ?? '?',
      activation: 'logits | probabilities',
      classes: '1 | K',
      foreground: '<channel of the foreground class, 0 with one channel>',
    },
  };
}
