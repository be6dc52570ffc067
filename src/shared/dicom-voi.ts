/**
 * The DICOM display pipeline after the Modality LUT, shared by the host (thumbnails, the 8-bit
 * image training sees) and the viewer (window presets): VOI (a window with LINEAR, LINEAR_EXACT or
 * SIGMOID, PS3.3 C.11.2.1.2, or a VOI LUT table), then MONOCHROME1 inverted last.
 *
 * The host sends DICOM images as gray PNGs whose value p maps linearly to the modality value
 * (`m = slope * p + intercept`), so the full range stays available for window/level.
 */
import { z } from 'zod';

export const voiFunctionSchema = z.enum(['LINEAR', 'LINEAR_EXACT', 'SIGMOID']);
export type VoiFunction = z.infer<typeof voiFunctionSchema>;

export const voiPresetSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('window'),
    name: z.string(),
    /** Window Center and Width in modality units. */
    center: z.number(),
    width: z.number().positive(),
    fn: voiFunctionSchema,
  }),
  z.object({
    kind: z.literal('table'),
    name: z.string(),
    /** The modality value mapped to data[0] (LUT Descriptor's second value). */
    firstMapped: z.number().int(),
    /** Bits of the LUT's output (LUT Descriptor's third value). */
    bits: z.number().int().min(1).max(16),
    data: z.array(z.number().int().nonnegative()),
  }),
]);
export type VoiPreset = z.infer<typeof voiPresetSchema>;

export const dicomDisplaySchema = z.object({
  /** Modality value of a PNG value p: slope * p + intercept. */
  slope: z.number(),
  intercept: z.number(),
  /** MONOCHROME1: the lowest value is white. */
  invert: z.boolean(),
  /** Every window pair of the file, then every VOI LUT; the first is the default. */
  presets: z.array(voiPresetSchema).min(1),
});
export type DicomDisplay = z.infer<typeof dicomDisplaySchema>;

/** The VOI output of modality value `x` as a fraction 0..1 (before any inversion). */
export function voiFraction(x: number, preset: VoiPreset): number {
  if (preset.kind === 'table') {
    const n = preset.data.length;
    const index = Math.min(n - 1, Math.max(0, Math.round(x) - preset.firstMapped));
    return preset.data[index] / (2 ** preset.bits - 1);
  }
  const { center: c, width: w } = preset;
  switch (preset.fn) {
    case 'SIGMOID':
      return 1 / (1 + Math.exp((-4 * (x - c)) / w));
    case 'LINEAR_EXACT':
      if (x <= c - w / 2) return 0;
      if (x > c + w / 2) return 1;
      return (x - c) / w + 0.5;
    case 'LINEAR': {
      // PS3.3 C.11.2.1.2.1: the width counts the end points, so w = 1 is a threshold.
      const span = Math.max(w - 1, 0);
      if (x <= c - 0.5 - span / 2) return 0;
      if (x > c - 0.5 + span / 2) return 1;
      return (x - (c - 0.5)) / span + 0.5;
    }
  }
}

/** Display byte (0..255) for every PNG value 0..maxValue under `preset`, inverted last. */
export function displayLut(display: DicomDisplay, preset: VoiPreset, maxValue: number): Uint8Array {
  const lut = new Uint8Array(maxValue + 1);
  for (let p = 0; p <= maxValue; p++) {
    const y = voiFraction(display.slope * p + display.intercept, preset);
    lut[p] = Math.round(255 * (display.invert ? 1 - y : y));
  }
  return lut;
}

/**
 * A window preset as (center, width) in PNG units, for a viewer whose window is linear; SIGMOID
 * and tables return the linear window nearest to them (their centre and width).
 */
export function presetInPngUnits(
  display: DicomDisplay,
  preset: VoiPreset,
): { center: number; width: number } {
  const slope = display.slope === 0 ? 1 : Math.abs(display.slope);
  let center: number;
  let width: number;
  if (preset.kind === 'window') {
    center = preset.center;
    width = preset.width;
  } else {
    center = preset.firstMapped + preset.data.length / 2;
    width = preset.data.length;
  }
  return { center: (center - display.intercept) / display.slope, width: width / slope };
}

/**
 * The inverse of `presetInPngUnits` for a linear window: the viewer's (center, width) in PNG
 * units as modality values (after the rescale), the units the file's own presets are given in.
 */
export function windowInModalityUnits(
  display: DicomDisplay,
  window: { center: number; width: number },
): { center: number; width: number } {
  const slope = display.slope === 0 ? 1 : display.slope;
  return {
    center: slope * window.center + display.intercept,
    width: window.width * Math.abs(slope),
  };
}
