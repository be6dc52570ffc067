/**
 * The project's wasm training kernels (the wasm step of the ML ladder, docs/ARCHITECTURE.md).
 * Call after the wasm backend is set: registers Conv2DBackpropFilter (missing in stock wasm), a fast
 * Conv2DBackpropInput (also conv2dTranspose's forward pass) and leaner batch-norm gradients.
 * Idempotent.
 */
import {
  getGradient,
  getKernel,
  registerGradient,
  registerKernel,
  unregisterKernel,
} from '@tensorflow/tfjs';
import type { GradConfig, KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input';
import { fusedBatchNormGradConfig, meanGradConfig } from './gradients';
import { reduceKernelConfigs } from './reduce';
import { sliceKernelConfigs } from './slice';

export {
  requestedWasmThreads,
  noteThreadedWasmFailure,
  threadedWasmFailure,
  useThreadedWasm,
  wasmThreadCount,
  DEFAULT_WASM_THREADS,
} from './threads';

const OURS = Symbol.for('qataseg.wasmTrainingKernel');

type Marked<T> = T & { [OURS]?: true };

function isOurs(config: KernelConfig | GradConfig | undefined | null): boolean {
  return Boolean(config && (config as Marked<typeof config>)[OURS]);
}

function replaceKernel(config: KernelConfig): void {
  if (getKernel(config.kernelName, config.backendName)) {
    unregisterKernel(config.kernelName, config.backendName);
  }
  (config as Marked<KernelConfig>)[OURS] = true;
  registerKernel(config);
}

function replaceGradient(config: GradConfig): void {
  (config as Marked<GradConfig>)[OURS] = true;
  registerGradient(config);
}

export const WASM_TRAINING_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'FusedBatchNorm (gradient)',
  'Mean (gradient)',
  'Slice',
  'SplitV',
  'Sum (per channel)',
  'Mean (per channel)',
] as const;

/** Registers everything once; returns the names of what is in place. */
export function registerWasmTrainingKernels(): readonly string[] {
  if (!isOurs(getKernel('Conv2DBackpropFilter', 'wasm'))) {
    replaceKernel(conv2dBackpropFilterConfig);
  }
  const stockInput = getKernel('Conv2DBackpropInput', 'wasm');
  if (!isOurs(stockInput)) {
    const fallback: KernelFunc | null = stockInput ? stockInput.kernelFunc : null;
    replaceKernel(conv2dBackpropInputConfig(fallback));
  }
  const stockBatchNormGrad = getGradient('FusedBatchNorm');
  if (!isOurs(stockBatchNormGrad)) {
    replaceGradient(fusedBatchNormGradConfig(stockBatchNormGrad ?? undefined));
  }
  if (!isOurs(getGradient('Mean'))) replaceGradient(meanGradConfig);
  if (!isOurs(getKernel('Slice', 'wasm'))) {
    for (const config of sliceKernelConfigs()) replaceKernel(config);
  }
  if (!isOurs(getKernel('Sum', 'wasm'))) {
    for (const config of reduceKernelConfigs()) replaceKernel(config);
  }
  return WASM_TRAINING_KERNELS;
}
