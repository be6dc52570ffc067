/**
 * Slice and SplitV for the wasm backend. The stock Slice copies one `subarray` per innermost row,
 * which for a channel slice of an NHWC tensor means one tiny copy per pixel: SplitV (the gradient
 * of every skip concatenation) took ~12% of a U-Net training step. Short rows are copied with a
 * plain loop here; long rows and other cases keep the stock path.
 */
import { backend_util, getKernel, slice_util, util } from '@tensorflow/tfjs';
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { KernelArgs } from './backend-ops';

/** Rows shorter than this are copied element by element. */
const SHORT_ROW = 64;

interface WasmHeapBackend extends KernelBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** Copies x[begin : begin + size] for a float32/int32 tensor of rank <= 4 with a short last axis. */
function sliceShortRows(
  backend: WasmHeapBackend,
  x: TensorInfo,
  begin: number[],
  size: number[],
): TensorInfo {
  const pad = 4 - x.shape.length;
  const shape = [...Array<number>(pad).fill(1), ...x.shape];
  const b = [...Array<number>(pad).fill(0), ...begin];
  const s = [...Array<number>(pad).fill(1), ...size];
  const source = backend.readSync(x.dataId) as Float32Array | Int32Array | Uint8Array;
  const out = backend.makeOutput(size, x.dtype);
  const target = backend.typedArrayFromHeap(out);
  const [s1, s2, s3] = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3]];
  const row = s[3];
  let o = 0;
  for (let i = b[0]; i < b[0] + s[0]; i++) {
    for (let j = b[1]; j < b[1] + s[1]; j++) {
      for (let k = b[2]; k < b[2] + s[2]; k++) {
        const start = i * s1 + j * s2 + k * s3 + b[3];
        for (let l = 0; l < row; l++) target[o++] = source[start + l];
      }
    }
  }
  return out;
}

function canUseShortRows(x: TensorInfo, size: number[]): boolean {
  return (
    x.dtype !== 'string' &&
    x.dtype !== 'complex64' &&
    x.shape.length >= 1 &&
    x.shape.length <= 4 &&
    size[size.length - 1] < SHORT_ROW &&
    size[size.length - 1] < x.shape[x.shape.length - 1]
  );
}

export function makeSliceWasm(stock: KernelFunc) {
  return function sliceWasm(args: KernelArgs): TensorInfo {
    const x = args.inputs.x as TensorInfo;
    const { begin, size } = args.attrs as unknown as { begin: number[]; size: number[] };
    const [begin_, resolvedSize] = slice_util.parseSliceParams(x, begin, size);
    if (canUseShortRows(x, resolvedSize) && util.sizeFromShape(resolvedSize) > 0) {
      return sliceShortRows(args.backend as WasmHeapBackend, x, begin_, resolvedSize);
    }
    return stock(args) as TensorInfo;
  };
}

export function makeSplitVWasm(sliceKernel: (args: KernelArgs) => TensorInfo) {
  return function splitVWasm(args: KernelArgs): TensorInfo[] {
    const x = args.inputs.x as TensorInfo;
    const { numOrSizeSplits, axis } = args.attrs as unknown as {
      numOrSizeSplits: number[] | number;
      axis: number;
    };
    const $axis = util.parseAxisParam(axis, x.shape)[0];
    const splitSizes = backend_util.prepareSplitSize(x, numOrSizeSplits, $axis);
    const begin = new Array<number>(x.shape.length).fill(0);
    return splitSizes.map((extent) => {
      const size = [...x.shape];
      size[$axis] = extent;
      const piece = sliceKernel({ ...args, attrs: { begin: [...begin], size } });
      begin[$axis] += extent;
      return piece;
    });
  };
}

export function sliceKernelConfigs(): KernelConfig[] {
  const stockSlice = getKernel('Slice', 'wasm');
  if (!stockSlice) return [];
  const slice = makeSliceWasm(stockSlice.kernelFunc);
  return [
    { kernelName: 'Slice', backendName: 'wasm', kernelFunc: slice as unknown as KernelFunc },
    {
      kernelName: 'SplitV',
      backendName: 'wasm',
      kernelFunc: makeSplitVWasm(slice) as unknown as KernelFunc,
    },
  ];
}
