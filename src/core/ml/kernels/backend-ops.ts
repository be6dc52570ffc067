/**
 * Runs kernels of one backend directly (no tape, no engine bookkeeping) from inside another
 * kernel, and frees every intermediate it made. The kernels here are composed only of kernels the
 * wasm backend already has, so they stay inside wasm memory.
 */
import { getKernel } from '@tensorflow/tfjs';
import type { KernelBackend, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

/** What a kernel function receives from the engine. */
export type KernelArgs = {
  inputs: NamedTensorInfoMap;
  backend: KernelBackend;
  attrs?: NamedAttrMap;
};

export class BackendOps {
  private readonly temps: TensorInfo[] = [];

  constructor(
    readonly backend: KernelBackend,
    readonly backendName: string,
  ) {}

  /** Runs `kernelName` on this backend; the result is freed by dispose() unless kept. */
  run(kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    const kernel = getKernel(kernelName, this.backendName);
    if (!kernel) throw new Error(`${this.backendName} has no ${kernelName} kernel`);
    const out = kernel.kernelFunc({ inputs, attrs, backend: this.backend });
    const info = Array.isArray(out) ? out[0] : out;
    this.temps.push(info);
    return info;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  /** Plain (non-transposed) matmul: the fast path of the wasm BatchMatMul (XNNPACK). */
  matMul(a: TensorInfo, b: TensorInfo): TensorInfo {
    return this.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
  }

  conv2d(
    x: TensorInfo,
    filter: TensorInfo,
    pad: [[number, number], [number, number], [number, number], [number, number]],
    dilations: [number, number] = [1, 1],
  ): TensorInfo {
    return this.run(
      'Conv2D',
      { x, filter },
      { strides: [1, 1], pad, dilations, dataFormat: 'NHWC' },
    );
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    return this.run('Slice', { x }, { begin, size });
  }

  /** Takes `info` out of the disposal list: it becomes the caller's output. */
  keep(info: TensorInfo): TensorInfo {
    const index = this.temps.lastIndexOf(info);
    if (index >= 0) this.temps.splice(index, 1);
    return info;
  }

  dispose(): void {
    for (const info of this.temps) this.backend.disposeData(info.dataId);
    this.temps.length = 0;
  }
}

/** Runs `body` with a fresh BackendOps and frees its intermediates even when it throws. */
export function withBackendOps(
  backend: KernelBackend,
  backendName: string,
  body: (ops: BackendOps) => TensorInfo,
): TensorInfo {
  const ops = new BackendOps(backend, backendName);
  try {
    return ops.keep(body(ops));
  } finally {
    ops.dispose();
  }
}
