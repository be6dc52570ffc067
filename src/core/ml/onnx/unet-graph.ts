/**
 * The U-Net of ../unet.ts as ONNX graphs for onnxruntime's native CPU kernels: an inference graph
 * (batch norm with moving statistics, weights baked in as initializers so onnxruntime can fold
 * and fuse them) and a training-step graph that takes the weights as inputs and returns the loss,
 * every trainable weight's gradient and each batch norm's batch statistics. The backward pass is
 * written out by hand, layer by layer, with the same definitions as tfjs (batch norm on batch
 * statistics, epsilon 1e-3; losses of ../losses.ts), so a step here matches a tfjs step.
 *
 * Tensors are NCHW. With one channel, the network's NHWC input and output have the same memory
 * layout as NCHW, so images go in and probability maps come out without a transpose.
 */
import { UNET_DEPTH } from '../architecture';
import type { LossName } from '../losses';
import { GraphBuilder, MS_DOMAIN, float } from './graph';
import { nchwcConv3x3 } from './nchwc';
import { winogradConv3x3, winogradFilters } from './winograd';

/** tfjs-layers' batch norm epsilon (Keras default). */
export const BN_EPSILON = 1e-3;
/** The clip of ../losses.ts's BCE. */
const BCE_EPSILON = 1e-6;
const DICE_SMOOTH = 1;

export interface UNetShape {
  base: number;
  /** Dropout rate at the bottom (training graph: a mask input when > 0). */
  dropout: number;
}

/** One weight of the tfjs model, and where it sits in the ONNX graphs. */
export interface ParamSpec {
  /** `${layer}/${weight}`, e.g. `down0_conv1/kernel`. */
  key: string;
  layer: string;
  /** Index in layer.getWeights(). */
  index: number;
  /** 4-d kernels are transposed between tfjs [kh, kw, a, b] and ONNX [b, a, kh, kw]. */
  kind: 'kernel' | 'vector';
  tfjsShape: number[];
  onnxShape: number[];
  trainable: boolean;
}

function kernel(layer: string, kh: number, a: number, b: number): ParamSpec {
  return {
    key: `${layer}/kernel`,
    layer,
    index: 0,
    kind: 'kernel',
    tfjsShape: [kh, kh, a, b],
    onnxShape: [b, a, kh, kh],
    trainable: true,
  };
}

function vector(layer: string, name: string, index: number, n: number, trainable = true) {
  const spec: ParamSpec = {
    key: `${layer}/${name}`,
    layer,
    index,
    kind: 'vector',
    tfjsShape: [n],
    onnxShape: [n],
    trainable,
  };
  return spec;
}

function batchNormParams(layer: string, channels: number): ParamSpec[] {
  return [
    vector(layer, 'gamma', 0, channels),
    vector(layer, 'beta', 1, channels),
    vector(layer, 'moving_mean', 2, channels, false),
    vector(layer, 'moving_variance', 3, channels, false),
  ];
}

/** Every weight of the U-Net, in the order tfjs lists the model's trainable weights. */
export function unetParams(base: number): ParamSpec[] {
  const params: ParamSpec[] = [];
  const block = (name: string, cin: number, cout: number) => {
    params.push(kernel(`${name}_conv1`, 3, cin, cout), ...batchNormParams(`${name}_bn1`, cout));
    params.push(kernel(`${name}_conv2`, 3, cout, cout), ...batchNormParams(`${name}_bn2`, cout));
  };
  let cin = 1;
  for (let level = 0; level < UNET_DEPTH; level++) {
    block(`down${level}`, cin, base * 2 ** level);
    cin = base * 2 ** level;
  }
  block('bottom', cin, base * 2 ** UNET_DEPTH);
  cin = base * 2 ** UNET_DEPTH;
  for (let level = UNET_DEPTH - 1; level >= 0; level--) {
    const filters = base * 2 ** level;
    // conv2dTranspose kernels are [kh, kw, out, in] in tfjs and [in, out, kh, kw] in ONNX.
    params.push(kernel(`up${level}`, 2, filters, cin), vector(`up${level}`, 'bias', 1, filters));
    block(`dec${level}`, 2 * filters, filters);
    cin = filters;
  }
  params.push(kernel('head', 1, cin, 1), vector('head', 'bias', 1, 1));
  return params;
}

/** Moves a kernel between the tfjs layout [kh, kw, a, b] and the ONNX layout [b, a, kh, kw]. */
function convertKernel(data: Float32Array, tfjsShape: number[], to: 'onnx' | 'tfjs') {
  const [kh, kw, a, b] = tfjsShape;
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < a; i++)
        for (let o = 0; o < b; o++) {
          const tfjsIndex = ((y * kw + x) * a + i) * b + o;
          const onnxIndex = ((o * a + i) * kh + y) * kw + x;
          if (to === 'onnx') out[onnxIndex] = data[tfjsIndex];
          else out[tfjsIndex] = data[onnxIndex];
        }
  return out;
}

export const kernelToOnnx = (data: Float32Array, tfjsShape: number[]) =>
  convertKernel(data, tfjsShape, 'onnx');
export const kernelToTfjs = (data: Float32Array, tfjsShape: number[]) =>
  convertKernel(data, tfjsShape, 'tfjs');

const PADS_SAME_3X3 = [1, 1, 1, 1];

/**
 * The inference graph with the weights baked in: input `image` [n, 1, h, w] -> `probabilities`
 * [n, 1, h, w]. `spatial` fixes h and w (an exported model declares its input size); without it
 * they are dynamic. `dropoutMask` adds an input `dropout_mask` [n, 8 * base, h / 8, w / 8]
 * multiplied into the bottom block's output, as the training graph does: Monte Carlo dropout at
 * inference, the caller drawing the mask (0 or 1 / (1 - rate)).
 */
export function buildInferenceGraph(
  shape: UNetShape,
  weights: Map<string, Float32Array>,
  spatial?: { height: number; width: number },
  options: { dropoutMask?: boolean } = {},
): Uint8Array {
  const g = new GraphBuilder('unet_infer');
  const params = new Map(unetParams(shape.base).map((p) => [p.key, p]));
  const weight = (key: string) => {
    const spec = params.get(key);
    const data = weights.get(key);
    if (!spec || !data) throw new Error(`missing weight ${key}`);
    return g.initializer(key, spec.onnxShape, data);
  };
  const unit = (x: string, conv: string, bn: string) => {
    const z = g.op('Conv', [x, weight(`${conv}/kernel`)], { pads: PADS_SAME_3X3 });
    const normed = g.op(
      'BatchNormalization',
      [z, ...['gamma', 'beta', 'moving_mean', 'moving_variance'].map((w) => weight(`${bn}/${w}`))],
      { epsilon: float(BN_EPSILON) },
    );
    return g.op('Relu', [normed]);
  };
  const block = (x: string, name: string) =>
    unit(unit(x, `${name}_conv1`, `${name}_bn1`), `${name}_conv2`, `${name}_bn2`);

  const dims = ['batch', 1, spatial?.height ?? 'height', spatial?.width ?? 'width'];
  let x = g.input('image', 'float', dims);
  const skips: string[] = [];
  for (let level = 0; level < UNET_DEPTH; level++) {
    x = block(x, `down${level}`);
    skips.push(x);
    x = g.op('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2] });
  }
  x = block(x, 'bottom');
  if (options.dropoutMask) {
    const bottom = 2 ** UNET_DEPTH;
    const maskDims = [
      'batch',
      shape.base * bottom,
      spatial ? spatial.height / bottom : 'bottom_height',
      spatial ? spatial.width / bottom : 'bottom_width',
    ];
    x = g.op('Mul', [x, g.input('dropout_mask', 'float', maskDims)]);
  }
  for (let level = UNET_DEPTH - 1; level >= 0; level--) {
    const up = g.op('ConvTranspose', [x, weight(`up${level}/kernel`), weight(`up${level}/bias`)], {
      kernel_shape: [2, 2],
      strides: [2, 2],
    });
    x = block(g.op('Concat', [up, skips[level]], { axis: 1 }), `dec${level}`);
  }
  const logits = g.op('Conv', [x, weight('head/kernel'), weight('head/bias')]);
  g.outputAs(g.op('Sigmoid', [logits]), 'probabilities', 'float', dims);
  return g.toBytes();
}

export interface TrainGraphSpec extends UNetShape {
  batch: number;
  size: number;
  loss: LossName;
  /**
   * 3x3 convs (forward and input gradient) whose input and output both have at least this many
   * channels run as Winograd F(2x2, 3x3) (./winograd.ts); absent: none.
   */
  winogradMinChannels?: number;
  /**
   * The block size of onnxruntime's NCHWc convolutions on this CPU (./nchwc.ts, 8 with AVX2, 16
   * with AVX-512); absent: every 3x3 conv runs as a plain NCHW Conv.
   */
  nchwcBlock?: number;
  /** The smallest layer (px) that runs blocked: below it the reorders cost more than they win. */
  nchwcMinSize?: number;
}

export interface TrainGraph {
  bytes: Uint8Array;
  /** Trainable weights: each is an input named by its key and has an output `grad:<key>`. */
  trainable: ParamSpec[];
  /** Batch norm layers: each has outputs `batch_mean:<layer>` and `batch_var:<layer>`. */
  batchNorms: string[];
  /** Whether the graph takes `pixel_weights` and `dropout_mask` inputs. */
  takesPixelWeights: boolean;
  dropoutMaskShape: number[] | null;
}

/**
 * One training step as a graph: inputs `image` and `mask` [batch, 1, size, size] (0..1), the
 * trainable weights, `pixel_weights` for weighted BCE and `dropout_mask` (0 or 1 / (1 - rate))
 * when the network has dropout; outputs `loss`, the gradients and the batch statistics.
 */
export function buildTrainingGraph(spec: TrainGraphSpec): TrainGraph {
  const g = new GraphBuilder('unet_train_step');
  const { batch: n, size } = spec;
  const all = unetParams(spec.base);
  const trainable = all.filter((p) => p.trainable);
  const inputs = new Map(trainable.map((p) => [p.key, g.input(p.key, 'float', p.onnxShape)]));
  const param = (key: string) => {
    const name = inputs.get(key);
    if (!name) throw new Error(`unknown weight ${key}`);
    return name;
  };
  const batchNorms: string[] = [];

  // Reverse-mode bookkeeping: each forward unit pushes a closure that reads its outputs'
  // gradients and adds its inputs' gradients; closures run in reverse creation order.
  const backward: (() => void)[] = [];
  const gradients = new Map<string, string[]>();
  const addGradient = (value: string, gradient: string) => {
    gradients.set(value, [...(gradients.get(value) ?? []), gradient]);
  };
  const gradientOf = (value: string) => {
    const parts = gradients.get(value);
    if (!parts || parts.length === 0) throw new Error(`no gradient reached ${value}`);
    return parts.length === 1 ? parts[0] : g.op('Sum', parts);
  };
  const paramGradient = (key: string, gradient: string) => g.outputAs(gradient, `grad:${key}`);
  // A conv's output gradient as batch norm hands it back: without its per-channel factor
  // gamma / std, which the conv applies to its small filter and filter gradient instead (one
  // full-size pass less per batch norm). Value -> the factor, [1, channels, 1, 1].
  const gradientFactors = new Map<string, string>();

  const channelAxes = g.ints([0, 2, 3]);
  // Nine one-hot 3x3 kernels: convolving with tap k copies the input shifted by tap k.
  const taps = g.constant(
    Array.from({ length: 81 }, (_, i) => (Math.floor(i / 9) === i % 9 ? 1 : 0)),
    'float',
    [9, 1, 3, 3],
  );
  // The same taps in reverse order: tap k shifts the other way (8 - k).
  const flippedTaps = g.constant(
    Array.from({ length: 81 }, (_, i) => (Math.floor(i / 9) === 8 - (i % 9) ? 1 : 0)),
    'float',
    [9, 1, 3, 3],
  );
  const asChannels = (value: string, channels: number) =>
    g.op('Reshape', [value, g.ints([1, channels, 1, 1])]);
  const asVector = (value: string) => g.op('Reshape', [value, g.ints([-1])]);

  /** 3x3 'same' convolution without bias, input [n, cin, h, h]. */
  const conv3x3 = (
    x: string,
    key: string,
    cin: number,
    cout: number,
    h: number,
    inputNeedsGradient: boolean,
  ) => {
    const w = param(key);
    const winograd =
      spec.winogradMinChannels !== undefined &&
      Math.min(cin, cout) >= spec.winogradMinChannels &&
      h % 2 === 0;
    const convolve = (input: string, filters: string, a: number, b: number) => {
      if (winograd)
        return winogradConv3x3(g, input, winogradFilters(g, filters, a, b), {
          n,
          cin: a,
          cout: b,
          h,
        });
      const blocked =
        spec.nchwcBlock !== undefined &&
        a % spec.nchwcBlock === 0 &&
        b % spec.nchwcBlock === 0 &&
        h >= (spec.nchwcMinSize ?? 0);
      if (blocked)
        return nchwcConv3x3(g, input, filters, { cin: a, cout: b, block: spec.nchwcBlock! });
      return g.op('Conv', [input, filters], { pads: PADS_SAME_3X3 });
    };
    const z = convolve(x, w, cin, cout);
    backward.push(() => {
      // dz here lacks its per-channel factor (gradientFactors): the filter gradient gets it
      // after the product, the input gradient through the filter.
      const dz = gradientOf(z);
      const factor = gradientFactors.get(z);
      // Filter gradient: im2col by one convolution of every channel with the nine one-hot 3x3
      // taps (one multithreaded pass that writes the columns in [n, c x 9, hw] order), then one
      // batched product with the other side, summed over the batch. The columns come from the
      // side with fewer channels (the decoders' first convs have twice as many inputs as
      // outputs): dw[o, i, t] = sum_p dz[o, p] x[i, p + t - 1] = sum_q x[i, q] dz[o, q - t + 1],
      // which is dz's columns with the taps flipped. The columns are the product's left side,
      // which MLAS reads in place; it packs only the right side, the fewer rows (1.02-1.08x a
      // step against the columns on the right, bench/README.md).
      const im2col = (value: string, channels: number, kernels: string) =>
        g.op('Reshape', [
          g.op('Conv', [g.op('Reshape', [value, g.ints([n * channels, 1, h, h])]), kernels], {
            pads: PADS_SAME_3X3,
          }),
          g.ints([n, channels * 9, h * h]),
        ]);
      /** sum over the batch of columns [n, c x 9, hw] times other [n, m, hw]^T: [c, 9, m]. */
      const columnProducts = (columns: string, other: string, c: number, m: number) =>
        g.op('Reshape', [
          g.op(
            'ReduceSum',
            [g.op('FusedMatMul', [columns, other], { transB: 1 }, MS_DOMAIN), g.ints([0])],
            { keepdims: 0 },
          ),
          g.ints([c, 9, m]),
        ]);
      const flat = (value: string, channels: number) =>
        g.op('Reshape', [value, g.ints([n, channels, h * h])]);
      const summed =
        cout < cin
          ? g.op(
              'Transpose',
              [columnProducts(im2col(dz, cout, flippedTaps), flat(x, cin), cout, cin)],
              { perm: [0, 2, 1] },
            )
          : g.op('Transpose', [columnProducts(im2col(x, cin, taps), flat(dz, cout), cin, cout)], {
              perm: [2, 0, 1],
            });
      let dw = g.op('Reshape', [summed, g.ints([cout, cin, 3, 3])]);
      if (factor) dw = g.op('Mul', [dw, g.op('Reshape', [factor, g.ints([cout, 1, 1, 1])])]);
      paramGradient(key, dw);
      if (inputNeedsGradient) {
        // Input gradient: convolution with the spatially flipped, transposed filter.
        const flipped = g.op('Slice', [
          g.op('Transpose', [w], { perm: [1, 0, 2, 3] }),
          g.ints([-1, -1]),
          g.ints([-(2 ** 31), -(2 ** 31)]),
          g.ints([2, 3]),
          g.ints([-1, -1]),
        ]);
        addGradient(x, convolve(dz, factor ? g.op('Mul', [flipped, factor]) : flipped, cout, cin));
      }
    });
    return z;
  };

  /**
   * A per-channel affine map a * x + b in one pass: onnxruntime's inference-mode batch norm with
   * mean 0, variance 1 and epsilon 0 (elementwise Mul then Add would read and write it twice).
   */
  const affine = (x: string, a: string, b: string, channels: number) =>
    g.op(
      'BatchNormalization',
      [
        x,
        asVector(a),
        asVector(b),
        g.constant(new Array<number>(channels).fill(0), 'float', [channels]),
        g.constant(new Array<number>(channels).fill(1), 'float', [channels]),
      ],
      { epsilon: float(0) },
    );

  /**
   * Batch norm on batch statistics, then ReLU. The forward normalises with one inference-mode
   * BatchNormalization given the batch's own mean and variance, and the backward keeps only the
   * centred input: 3 fewer full-size passes than normalising and scaling elementwise.
   */
  const batchNormRelu = (z: string, layer: string, channels: number, h: number) => {
    batchNorms.push(layer);
    const gammaVector = param(`${layer}/gamma`);
    const gamma = asChannels(gammaVector, channels);
    const mean = g.op('ReduceMean', [z], { axes: [0, 2, 3], keepdims: 1 });
    const centred = g.op('Sub', [z, mean]);
    // One reading pass (no squared tensor written and read back).
    const variance = g.op('Div', [
      g.op('ReduceSumSquare', [centred], { axes: [0, 2, 3], keepdims: 1 }),
      g.scalar(n * h * h),
    ]);
    const invStd = g.op('Reciprocal', [
      g.op('Sqrt', [g.op('Add', [variance, g.scalar(BN_EPSILON)])]),
    ]);
    const out = g.op('Relu', [
      g.op(
        'BatchNormalization',
        [z, gammaVector, param(`${layer}/beta`), asVector(mean), asVector(variance)],
        { epsilon: float(BN_EPSILON) },
      ),
    ]);
    g.outputAs(asVector(mean), `batch_mean:${layer}`);
    g.outputAs(asVector(variance), `batch_var:${layer}`);
    backward.push(() => {
      const count = n * h * h;
      const dOut = gradientOf(out);
      const dA = g.op('Where', [g.op('Greater', [out, g.scalar(0)]), dOut, g.scalar(0)]);
      const dBeta = g.op('ReduceSum', [dA, channelAxes], { keepdims: 1 });
      // sum(dA * xhat) = sum(dA * centred) / std
      const dGamma = g.op('Mul', [
        g.op('ReduceSum', [g.op('Mul', [dA, centred]), channelAxes], { keepdims: 1 }),
        invStd,
      ]);
      paramGradient(`${layer}/gamma`, asVector(dGamma));
      paramGradient(`${layer}/beta`, asVector(dBeta));
      // dz = gamma / std * (dA - mean(dA) - xhat * mean(dA * xhat))
      //    = (gamma / std) * (dA + (-mean(dA * xhat) / std) * centred - mean(dA)).
      // The bracket is handed back; the conv that made z applies gamma / std (gradientFactors).
      const meanDA = g.op('Div', [dBeta, g.scalar(count)]);
      const meanDAX = g.op('Div', [dGamma, g.scalar(count)]);
      const centredFactor = g.op('Neg', [g.op('Mul', [invStd, meanDAX])]);
      const rest = affine(centred, centredFactor, g.op('Neg', [meanDA]), channels);
      addGradient(z, g.op('Add', [dA, rest]));
      gradientFactors.set(z, g.op('Mul', [gamma, invStd]));
    });
    return out;
  };

  const block = (x: string, name: string, cin: number, cout: number, h: number, first: boolean) => {
    let y = conv3x3(x, `${name}_conv1/kernel`, cin, cout, h, !first);
    y = batchNormRelu(y, `${name}_bn1`, cout, h);
    y = conv3x3(y, `${name}_conv2/kernel`, cout, cout, h, true);
    return batchNormRelu(y, `${name}_bn2`, cout, h);
  };

  const maxPool = (x: string, elements: number) => {
    const [pooled, indices] = g.node(
      'MaxPool',
      [x],
      { kernel_shape: [2, 2], strides: [2, 2] },
      {
        outputs: 2,
      },
    );
    backward.push(() => {
      // Each pooled gradient goes back to its window's maximum (indices are flat over the tensor).
      const zeros = g.op('ConstantOfShape', [g.ints([elements])]);
      const scattered = g.op('ScatterElements', [
        zeros,
        asVector(indices),
        asVector(gradientOf(pooled)),
      ]);
      addGradient(x, g.op('Reshape', [scattered, g.op('Shape', [x])]));
    });
    return pooled;
  };

  const image = g.input('image', 'float', [n, 1, size, size]);
  const mask = g.input('mask', 'float', [n, 1, size, size]);
  const takesPixelWeights = spec.loss === 'weighted-bce';
  const pixelWeights = takesPixelWeights
    ? g.input('pixel_weights', 'float', [n, 1, size, size])
    : null;

  const skips: { value: string; channels: number }[] = [];
  let x = image;
  let cin = 1;
  let h = size;
  for (let level = 0; level < UNET_DEPTH; level++) {
    const cout = spec.base * 2 ** level;
    x = block(x, `down${level}`, cin, cout, h, level === 0);
    skips.push({ value: x, channels: cout });
    x = maxPool(x, n * cout * h * h);
    cin = cout;
    h /= 2;
  }
  const bottomChannels = spec.base * 2 ** UNET_DEPTH;
  x = block(x, 'bottom', cin, bottomChannels, h, false);
  cin = bottomChannels;
  let dropoutMaskShape: number[] | null = null;
  if (spec.dropout > 0) {
    dropoutMaskShape = [n, bottomChannels, h, h];
    const dropMask = g.input('dropout_mask', 'float', dropoutMaskShape);
    const before = x;
    x = g.op('Mul', [before, dropMask]);
    const after = x;
    backward.push(() => addGradient(before, g.op('Mul', [gradientOf(after), dropMask])));
  }
  for (let level = UNET_DEPTH - 1; level >= 0; level--) {
    const filters = spec.base * 2 ** level;
    const below = x;
    const belowChannels = cin;
    const kernelKey = `up${level}/kernel`;
    const biasKey = `up${level}/bias`;
    const up = g.op('ConvTranspose', [below, param(kernelKey), param(biasKey)], {
      kernel_shape: [2, 2],
      strides: [2, 2],
    });
    const hBelow = h;
    backward.push(() => {
      const dUp = gradientOf(up);
      paramGradient(biasKey, g.op('ReduceSum', [dUp, channelAxes], { keepdims: 0 }));
      addGradient(below, g.op('Conv', [dUp, param(kernelKey)], { strides: [2, 2] }));
      // Kernel gradient: the four stride-2 phases of dUp against the input, in one product.
      const phases: string[] = [];
      for (let dy = 0; dy < 2; dy++)
        for (let dx = 0; dx < 2; dx++)
          phases.push(
            g.op('Slice', [
              dUp,
              g.ints([dy, dx]),
              g.ints([2 * hBelow, 2 * hBelow]),
              g.ints([2, 3]),
              g.ints([2, 2]),
            ]),
          );
      const stacked = g.op('Reshape', [
        g.op('Concat', phases, { axis: 1 }),
        g.ints([n, 4 * filters, hBelow * hBelow]),
      ]);
      const flatBelow = g.op('Reshape', [below, g.ints([n, belowChannels, hBelow * hBelow])]);
      const products = g.op('FusedMatMul', [flatBelow, stacked], { transB: 1 }, MS_DOMAIN);
      const summed = g.op('ReduceSum', [products, g.ints([0])], { keepdims: 0 });
      const dw = g.op('Reshape', [
        g.op('Transpose', [g.op('Reshape', [summed, g.ints([belowChannels, 4, filters])])], {
          perm: [0, 2, 1],
        }),
        g.ints([belowChannels, filters, 2, 2]),
      ]);
      paramGradient(kernelKey, dw);
    });
    h *= 2;
    const skip = skips[level];
    const joined = g.op('Concat', [up, skip.value], { axis: 1 });
    backward.push(() => {
      const [dUp, dSkip] = g.node(
        'Split',
        [gradientOf(joined), g.ints([filters, skip.channels])],
        {
          axis: 1,
        },
        { outputs: 2 },
      );
      addGradient(up, dUp);
      addGradient(skip.value, dSkip);
    });
    x = block(joined, `dec${level}`, 2 * filters, filters, h, false);
    cin = filters;
  }

  // Head: 1x1 convolution + sigmoid, and the loss with its gradient on the logits.
  const headInput = x;
  const headKernel = param('head/kernel');
  const logits = g.op('Conv', [headInput, headKernel, param('head/bias')]);
  const p = g.op('Sigmoid', [logits]);
  const pixels = n * size * size;
  const lossTerms: string[] = [];
  const logitGradients: string[] = [];
  const wantsBce = spec.loss !== 'dice';
  const wantsDice = spec.loss === 'dice' || spec.loss === 'bce-dice';
  if (wantsBce) {
    const clipped = g.op('Clip', [p, g.scalar(BCE_EPSILON), g.scalar(1 - BCE_EPSILON)]);
    const oneMinusMask = g.op('Sub', [g.scalar(1), mask]);
    const perPixel = g.op('Neg', [
      g.op('Add', [
        g.op('Mul', [mask, g.op('Log', [clipped])]),
        g.op('Mul', [oneMinusMask, g.op('Log', [g.op('Sub', [g.scalar(1), clipped])])]),
      ]),
    ]);
    const weighted = pixelWeights ? g.op('Mul', [perPixel, pixelWeights]) : perPixel;
    lossTerms.push(g.op('ReduceMean', [weighted], { keepdims: 0 }));
    // d/dlogit of the mean BCE is (p - y) / pixels (times the weight), zero where the clip
    // holds p (tfjs's clipByValue gradient).
    const inRange = g.op('And', [
      g.op('GreaterOrEqual', [p, g.scalar(BCE_EPSILON)]),
      g.op('LessOrEqual', [p, g.scalar(1 - BCE_EPSILON)]),
    ]);
    let gradient = g.op('Div', [g.op('Sub', [p, mask]), g.scalar(pixels)]);
    if (pixelWeights) gradient = g.op('Mul', [gradient, pixelWeights]);
    logitGradients.push(g.op('Where', [inRange, gradient, g.scalar(0)]));
  }
  if (wantsDice) {
    const intersection = g.op('ReduceSum', [g.op('Mul', [mask, p])], { keepdims: 0 });
    const total = g.op('Add', [
      g.op('ReduceSum', [mask], { keepdims: 0 }),
      g.op('ReduceSum', [p], { keepdims: 0 }),
    ]);
    const numerator = g.op('Add', [
      g.op('Mul', [intersection, g.scalar(2)]),
      g.scalar(DICE_SMOOTH),
    ]);
    const denominator = g.op('Add', [total, g.scalar(DICE_SMOOTH)]);
    lossTerms.push(g.op('Sub', [g.scalar(1), g.op('Div', [numerator, denominator])]));
    // dL/dp = num / den^2 - 2 y / den; times the sigmoid's p (1 - p).
    const dP = g.op('Sub', [
      g.op('Div', [numerator, g.op('Mul', [denominator, denominator])]),
      g.op('Mul', [mask, g.op('Div', [g.scalar(2), denominator])]),
    ]);
    logitGradients.push(g.op('Mul', [dP, g.op('Mul', [p, g.op('Sub', [g.scalar(1), p])])]));
  }
  g.outputAs(lossTerms.length === 1 ? lossTerms[0] : g.op('Sum', lossTerms), 'loss');
  const dLogits = logitGradients.length === 1 ? logitGradients[0] : g.op('Sum', logitGradients);
  paramGradient('head/bias', g.op('ReduceSum', [dLogits, channelAxes], { keepdims: 0 }));
  paramGradient(
    'head/kernel',
    g.op('Reshape', [
      g.op('ReduceSum', [g.op('Mul', [headInput, dLogits]), channelAxes], { keepdims: 0 }),
      g.ints([1, cin, 1, 1]),
    ]),
  );
  addGradient(
    headInput,
    g.op('Mul', [dLogits, g.op('Reshape', [headKernel, g.ints([1, cin, 1, 1])])]),
  );

  for (const step of backward.reverse()) step();
  return { bytes: g.toBytes(), trainable, batchNorms, takesPixelWeights, dropoutMaskShape };
}
