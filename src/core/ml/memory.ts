/**
 * Memory estimate of a training configuration, checked before a run starts: tfjs wasm addresses
 * at most 4 GiB, and running out halfway through an epoch wastes the user's time. The estimate
 * counts the activations the tape keeps per image (six per conv block: conv, batch norm, ReLU twice;
 * the up-sampling and concatenation in the decoder), times a factor for gradients, batch-norm
 * intermediates and im2col work buffers, plus weights, gradients and Adam's two moments.
 * Calibrated so base 32 at 256 px and batch 4 does not fit (seen on these machines) and base 16
 * does.
 */
import os from 'node:os';
import { UNET_DEPTH } from './architecture';

export const WASM_MEMORY_LIMIT = 4 * 1024 ** 3;
/** Headroom kept for the runtime itself, the dataset cache and fragmentation. */
const USABLE_FRACTION = 0.85;
const TRAINING_FACTOR = 4;
const INFERENCE_FACTOR = 1.5;

export function unetParameterCount(base: number): number {
  let count = 0;
  let cin = 1;
  const block = (input: number, output: number) =>
    9 * input * output + 9 * output * output + 4 * 2 * output;
  for (let level = 0; level < UNET_DEPTH; level++) {
    const c = base * 2 ** level;
    count += block(cin, c);
    cin = c;
  }
  const bottom = base * 2 ** UNET_DEPTH;
  count += block(cin, bottom);
  cin = bottom;
  for (let level = UNET_DEPTH - 1; level >= 0; level--) {
    const c = base * 2 ** level;
    count += 4 * cin * c + c + block(2 * c, c);
    cin = c;
  }
  return count + base + 1;
}

/** Floats of the activations kept for one image's backward pass. */
function activationFloats(size: number, base: number): number {
  let floats = 0;
  for (let level = 0; level < UNET_DEPTH; level++) {
    const pixels = (size / 2 ** level) ** 2;
    const channels = base * 2 ** level;
    // encoder block (6) + pool output (1/4) + decoder: up (1), concat (2), block (6)
    floats += pixels * channels * (6 + 0.25 + 1 + 2 + 6);
  }
  floats += (size / 2 ** UNET_DEPTH) ** 2 * base * 2 ** UNET_DEPTH * 6;
  return floats + size * size * 2;
}

export interface MemoryEstimate {
  bytes: number;
  limit: number | null;
  fits: boolean;
}

export function estimateTrainingMemory(
  config: { size: number; base: number; batch: number },
  limit: number | null = WASM_MEMORY_LIMIT,
): MemoryEstimate {
  const activations = activationFloats(config.size, config.base) * config.batch * TRAINING_FACTOR;
  const parameters = unetParameterCount(config.base) * 4;
  const bytes = (activations + parameters) * 4;
  return { bytes, limit, fits: limit === null || bytes <= limit * USABLE_FRACTION };
}

export function estimateInferenceMemory(
  config: { size: number; base: number; batch: number },
  limit: number | null = WASM_MEMORY_LIMIT,
): MemoryEstimate {
  const bytes =
    (activationFloats(config.size, config.base) * config.batch * INFERENCE_FACTOR +
      unetParameterCount(config.base)) *
    4;
  return { bytes, limit, fits: limit === null || bytes <= limit * USABLE_FRACTION };
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

/**
 * Null when the configuration fits; otherwise a message naming the largest smaller batch that fits
 * at this base, or else the largest smaller base that fits at batch 1.
 */
export function memoryRefusal(
  config: { size: number; base: number; batch: number },
  backend: string,
  limit: number | null = WASM_MEMORY_LIMIT,
): string | null {
  const estimate = estimateTrainingMemory(config, limit);
  if (estimate.fits || limit === null) return null;
  const head = `training at ${config.size} px, base ${config.base}, batch ${config.batch} needs about ${gib(estimate.bytes)}; the ${backend} backend can address ${gib(limit)}`;
  for (let batch = config.batch - 1; batch >= 1; batch--) {
    if (estimateTrainingMemory({ ...config, batch }, limit).fits)
      return `${head}: use --batch ${batch} (or a smaller --base)`;
  }
  for (let base = Math.floor(config.base / 2); base >= 4; base = Math.floor(base / 2)) {
    for (let batch = config.batch; batch >= 1; batch--) {
      if (estimateTrainingMemory({ ...config, base, batch }, limit).fits) {
        return `${head}: use --base ${base}${batch !== config.batch ? ` --batch ${batch}` : ''}`;
      }
    }
  }
  return `${head}: use a smaller --size`;
}

/**
 * The memory ceiling of a backend: wasm's 4 GiB address space; the machine's memory for
 * onnxruntime (native, one process); null where there is no fixed ceiling worth checking.
 */
export function backendMemoryLimit(backend: string): number | null {
  if (backend === 'wasm') return WASM_MEMORY_LIMIT;
  if (backend === 'onnxruntime') return os.totalmem();
  return null;
}
