/**
 * A fast Conv2DBackpropInput for the wasm backend (the stock one is a scalar loop). It is also
 * the forward pass of conv2dTranspose. Built from wasm kernels:
 *  - stride 1: a Conv2D (XNNPACK) of dy with the flipped, transposed filter;
 *  - kernel == stride, no padding (the 2x2/2 transposed conv): one matmul + reshape/transpose;
 *  - anything else goes to the stock kernel.
 */
import type {
  Conv2DBackpropInputAttrs,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs';
import { withBackendOps, type KernelArgs } from './backend-ops';
import { convGeometry, isPatchwise } from './conv-geometry';

export function makeConv2dBackpropInputWasm(stock: KernelFunc | null) {
  return function conv2dBackpropInputWasm(args: KernelArgs): TensorInfo {
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
    const g = convGeometry(
      attrs.inputShape,
      filter.shape as [number, number, number, number],
      attrs.strides,
      attrs.pad,
      attrs.dimRoundingMode,
      attrs.dataFormat,
    );
    const { filterHeight: fh, filterWidth: fw, inChannels: ci, outChannels: co } = g;
    // Padding of dy that makes "conv with the flipped filter" produce exactly the input's size.
    const padTop = fh - 1 - g.padTop;
    const padLeft = fw - 1 - g.padLeft;
    const padBottom = g.inHeight - g.outHeight - padTop + fh - 1;
    const padRight = g.inWidth - g.outWidth - padLeft + fw - 1;
    const strideOne = g.strideHeight === 1 && g.strideWidth === 1;
    const padsValid = padTop >= 0 && padLeft >= 0 && padBottom >= 0 && padRight >= 0;
    if (g.channelsLast && strideOne && padsValid) {
      return withBackendOps(args.backend, 'wasm', (ops) => {
        const flipped = ops.run('Reverse', { x: filter }, { dims: [0, 1] });
        const filterT = ops.transpose(flipped, [0, 1, 3, 2]); // [fh, fw, co, ci]
        return ops.conv2d(dy, filterT, [
          [0, 0],
          [padTop, padBottom],
          [padLeft, padRight],
          [0, 0],
        ]);
      });
    }
    if (g.channelsLast && isPatchwise(g)) {
      return withBackendOps(args.backend, 'wasm', (ops) => {
        const rows = g.batch * g.outHeight;
        const pixels = rows * g.outWidth;
        const taps = ops.reshape(ops.transpose(filter, [3, 0, 1, 2]), [co, fh * fw * ci]);
        const patches = ops.matMul(ops.reshape(dy, [pixels, co]), taps); // [pixels, fh*fw*ci]
        const shuffled = ops.transpose(
          ops.reshape(patches, [rows, g.outWidth, fh, fw * ci]),
          [0, 2, 1, 3],
        );
        return ops.reshape(shuffled, [g.batch, g.inHeight, g.inWidth, ci]);
      });
    }
    if (!stock) throw new Error('Conv2DBackpropInput: unsupported geometry and no stock kernel');
    return stock(args) as TensorInfo;
  };
}

export function conv2dBackpropInputConfig(stock: KernelFunc | null): KernelConfig {
  return {
    kernelName: 'Conv2DBackpropInput',
    backendName: 'wasm',
    kernelFunc: makeConv2dBackpropInputWasm(stock) as unknown as KernelFunc,
  };
}
