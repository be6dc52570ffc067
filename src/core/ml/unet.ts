/**
 * The U-Net of the seed paper in tfjs-layers: four down levels of two 3x3 'same' convolutions
 * (no bias, batch norm, ReLU), 2x2 max-pool, a bottom block with optional dropout, 2x2 stride-2
 * transposed convolutions up, skip concatenation, and a 1x1 convolution + sigmoid head.
 * Input: [batch, size, size, 1] with size any multiple of 16.
 */
import * as tfDefault from '@tensorflow/tfjs';
import type * as tfTypes from '@tensorflow/tfjs';
import type { Tf } from './tf';
import { checkUNetOptions, UNET_DEPTH, type UNetOptions } from './architecture';

/** tfjs-layers batch norm momentum of every block (moving = moving * m + batch * (1 - m)). */
export const BN_MOMENTUM = 0.9;

export {
  checkUNetOptions,
  UNET_DEPTH,
  type UNetArchitecture,
  type UNetOptions,
} from './architecture';

/**
 * Builds the model. Pass the runtime's tf (from loadRuntime) when it is not @tensorflow/tfjs itself
 * (tfjs-node), so layers land on the loaded backend.
 */
export function buildUNet(options: UNetOptions, tf: Tf = tfDefault): tfTypes.LayersModel {
  const arch = checkUNetOptions(options);
  let seed = options.seed ?? 1;
  const init = () => tf.initializers.heNormal({ seed: seed++ });
  const block = (
    x: tfTypes.SymbolicTensor,
    filters: number,
    name: string,
  ): tfTypes.SymbolicTensor => {
    let y = x;
    for (let i = 1; i <= 2; i++) {
      y = tf.layers
        .conv2d({
          filters,
          kernelSize: 3,
          padding: 'same',
          useBias: false,
          kernelInitializer: init(),
          name: `${name}_conv${i}`,
        })
        .apply(y) as tfTypes.SymbolicTensor;
      y = tf.layers
        .batchNormalization({ axis: -1, momentum: BN_MOMENTUM, name: `${name}_bn${i}` })
        .apply(y) as tfTypes.SymbolicTensor;
      y = tf.layers
        .activation({ activation: 'relu', name: `${name}_relu${i}` })
        .apply(y) as tfTypes.SymbolicTensor;
    }
    return y;
  };

  const input = tf.input({ shape: [arch.size, arch.size, 1], name: 'image' });
  const skips: tfTypes.SymbolicTensor[] = [];
  let x: tfTypes.SymbolicTensor = input;
  for (let level = 0; level < arch.depth; level++) {
    x = block(x, arch.base * 2 ** level, `down${level}`);
    skips.push(x);
    x = tf.layers
      .maxPooling2d({ poolSize: 2, strides: 2, name: `pool${level}` })
      .apply(x) as tfTypes.SymbolicTensor;
  }
  x = block(x, arch.base * 2 ** arch.depth, 'bottom');
  if (arch.dropout > 0) {
    x = tf.layers
      .dropout({ rate: arch.dropout, seed: seed++, name: 'bottom_dropout' })
      .apply(x) as tfTypes.SymbolicTensor;
  }
  for (let level = arch.depth - 1; level >= 0; level--) {
    const filters = arch.base * 2 ** level;
    const up = tf.layers
      .conv2dTranspose({
        filters,
        kernelSize: 2,
        strides: 2,
        padding: 'same',
        kernelInitializer: init(),
        name: `up${level}`,
      })
      .apply(x) as tfTypes.SymbolicTensor;
    x = tf.layers
      .concatenate({ axis: -1, name: `concat${level}` })
      .apply([up, skips[level]]) as tfTypes.SymbolicTensor;
    x = block(x, filters, `dec${level}`);
  }
  const output = tf.layers
    .conv2d({
      filters: 1,
      kernelSize: 1,
      activation: 'sigmoid',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }),
      name: 'head',
    })
    .apply(x) as tfTypes.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: `unet_b${arch.base}_s${arch.size}` });
}

/** Forward FLOPs per image (multiply-add = 2), for images/s -> GFLOP/s figures. */
export function unetForwardFlops(size: number, base: number): number {
  let flops = 0;
  const conv = (h: number, cin: number, cout: number, k: number) => 2 * h * h * cin * cout * k * k;
  let cin = 1;
  for (let level = 0; level < UNET_DEPTH; level++) {
    const h = size / 2 ** level;
    const c = base * 2 ** level;
    flops += conv(h, cin, c, 3) + conv(h, c, c, 3);
    cin = c;
  }
  const hb = size / 2 ** UNET_DEPTH;
  const cb = base * 2 ** UNET_DEPTH;
  flops += conv(hb, cin, cb, 3) + conv(hb, cb, cb, 3);
  cin = cb;
  for (let level = UNET_DEPTH - 1; level >= 0; level--) {
    const h = size / 2 ** level;
    const c = base * 2 ** level;
    // transposed conv 2x2 stride 2: each input pixel feeds 4 outputs.
    flops += 2 * (h / 2) * (h / 2) * cin * c * 4;
    flops += conv(h, 2 * c, c, 3) + conv(h, c, c, 3);
    cin = c;
  }
  flops += conv(size, base, 1, 1);
  return flops;
}
