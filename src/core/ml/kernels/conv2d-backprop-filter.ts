/**
 * Conv2DBackpropFilter for the wasm backend (stock wasm has none), built from wasm kernels:
 *  - kernel == stride, no padding (the 2x2/2 transposed conv): one reshuffle + one matmul;
 *  - otherwise the "swapped conv": dW[kh,kw,ci,co] = sum x[n, y*s+kh, x*s+kw, ci] dy[n,y,x,co] is
 *    itself a conv whose batch is ci, whose channels are n and whose filter is dy (dilated by the
 *    stride), so XNNPACK's Conv2D does the work without an im2col buffer.
 */
import type {
  Conv2DBackpropFilterAttrs,
  KernelBackend,
  KernelConfig,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from '@tensorflow/tfjs';
import { withBackendOps } from './backend-ops';
import { convGeometry, isPatchwise, type ConvGeometry } from './conv-geometry';

export function conv2dBackpropFilterWasm(args: {
  inputs: NamedTensorInfoMap;
  backend: KernelBackend;
  attrs?: NamedAttrMap;
}): TensorInfo {
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
  const g = convGeometry(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    attrs.pad,
    attrs.dimRoundingMode,
    attrs.dataFormat,
  );
  if (!g.channelsLast) return referenceFilterGrad(args.backend, x, dy, g);
  return withBackendOps(args.backend, 'wasm', (ops) => {
    const { filterHeight: fh, filterWidth: fw, inChannels: ci, outChannels: co } = g;
    if (isPatchwise(g)) {
      const rows = g.batch * g.outHeight;
      const pixels = rows * g.outWidth;
      const patches = ops.reshape(x, [rows, fh, g.outWidth, fw * ci]);
      // [fh, fw*ci, rows, outWidth]: one row per filter tap, one column per output pixel.
      const taps = ops.reshape(ops.transpose(patches, [1, 3, 0, 2]), [fh * fw * ci, pixels]);
      const grad = ops.matMul(taps, ops.reshape(dy, [pixels, co]));
      return ops.reshape(grad, [fh, fw, ci, co]);
    }
    const xSwapped = ops.transpose(x, [3, 1, 2, 0]); // [ci, H, W, n]
    const dySwapped = ops.transpose(dy, [1, 2, 0, 3]); // [outH, outW, n, co]
    let grad = ops.conv2d(
      xSwapped,
      dySwapped,
      [
        [0, 0],
        [g.padTop, g.padBottom],
        [g.padLeft, g.padRight],
        [0, 0],
      ],
      [g.strideHeight, g.strideWidth],
    ); // [ci, >=fh, >=fw, co]
    if (grad.shape[1] !== fh || grad.shape[2] !== fw) {
      grad = ops.slice(grad, [0, 0, 0, 0], [ci, fh, fw, co]);
    }
    return ops.transpose(grad, [1, 2, 0, 3]);
  });
}

/** Direct loops for layouts the fast paths do not cover (NCHW): correct, not fast. */
function referenceFilterGrad(
  backend: KernelBackend,
  x: TensorInfo,
  dy: TensorInfo,
  g: ConvGeometry,
): TensorInfo {
  const xv = backend.readSync(x.dataId) as Float32Array;
  const dyv = backend.readSync(dy.dataId) as Float32Array;
  const { filterHeight: fh, filterWidth: fw, inChannels: ci, outChannels: co } = g;
  const { inHeight: H, inWidth: W, outHeight: oh, outWidth: ow } = g;
  const xAt = g.channelsLast
    ? (n: number, h: number, w: number, c: number) => xv[((n * H + h) * W + w) * ci + c]
    : (n: number, h: number, w: number, c: number) => xv[((n * ci + c) * H + h) * W + w];
  const dyAt = g.channelsLast
    ? (n: number, h: number, w: number, c: number) => dyv[((n * oh + h) * ow + w) * co + c]
    : (n: number, h: number, w: number, c: number) => dyv[((n * co + c) * oh + h) * ow + w];
  const out = new Float32Array(fh * fw * ci * co);
  for (let kh = 0; kh < fh; kh++)
    for (let kw = 0; kw < fw; kw++)
      for (let n = 0; n < g.batch; n++)
        for (let y = 0; y < oh; y++) {
          const h = y * g.strideHeight + kh - g.padTop;
          if (h < 0 || h >= H) continue;
          for (let xo = 0; xo < ow; xo++) {
            const w = xo * g.strideWidth + kw - g.padLeft;
            if (w < 0 || w >= W) continue;
            for (let c = 0; c < ci; c++) {
              const xval = xAt(n, h, w, c);
              const base = ((kh * fw + kw) * ci + c) * co;
              for (let o = 0; o < co; o++) out[base + o] += xval * dyAt(n, y, xo, o);
            }
          }
        }
  const dataId = backend.write(out, [fh, fw, ci, co], 'float32');
  return { dataId, shape: [fh, fw, ci, co], dtype: 'float32' };
}

export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilterWasm as unknown as KernelConfig['kernelFunc'],
};
