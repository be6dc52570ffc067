/**
 * The U-Net's architecture parameters and their rules, free of tfjs so the host can validate a
 * configuration and describe it in a model card without loading the runtime.
 */

export const UNET_DEPTH = 4;
export const ALLOWED_BASES = [8, 16, 32, 64] as const;

export interface UNetOptions {
  size: number;
  base?: number;
  dropout?: number;
  /** Seed of the weight initialisers, so a run is reproducible. */
  seed?: number;
}

export interface UNetArchitecture {
  name: 'unet';
  depth: number;
  base: number;
  size: number;
  dropout: number;
  channels: number;
}

export function checkUNetOptions(options: UNetOptions): UNetArchitecture {
  const base = options.base ?? 16;
  const dropout = options.dropout ?? 0;
  const factor = 2 ** UNET_DEPTH;
  if (!Number.isInteger(options.size) || options.size < factor || options.size % factor !== 0) {
    throw new Error(`input size must be a positive multiple of ${factor}, got ${options.size}`);
  }
  if (!Number.isInteger(base) || base < 1)
    throw new Error(`base filters must be a positive integer, got ${base}`);
  if (!(dropout >= 0 && dropout < 1)) throw new Error(`dropout must be in [0, 1), got ${dropout}`);
  return { name: 'unet', depth: UNET_DEPTH, base, size: options.size, dropout, channels: 1 };
}

export const checkUNetArchitecture = checkUNetOptions;
