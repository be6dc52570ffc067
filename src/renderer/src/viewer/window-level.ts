/**
 * Window / level for greyscale images of any bit depth. A window is (center, width) in the
 * image's own units (0..65535 for 16-bit sources, 0..255 for 8-bit); the look-up table maps every
 * possible source value to a display byte, so applying it is one indexed read per pixel.
 */

import {
  displayLut,
  presetInPngUnits,
  windowInModalityUnits,
  type DicomDisplay,
  type VoiPreset,
} from '../../../shared/dicom-voi';

export interface WindowLevel {
  center: number;
  width: number;
  invert: boolean;
  /**
   * A DICOM VOI preset in force (its function or table, not only its centre and width); a drag
   * leaves it for a plain linear window.
   */
  voi?: { display: DicomDisplay; preset: VoiPreset };
}

/** A DICOM file's VOI preset as the window, MONOCHROME1 inverted. */
export function dicomWindow(display: DicomDisplay, preset: VoiPreset): WindowLevel {
  return { ...presetInPngUnits(display, preset), invert: display.invert, voi: { display, preset } };
}

/**
 * "W 400 / L 40 · SOFT (file preset)": for DICOM in modality units (after the rescale, as the
 * file's presets are given) with the file's preset in force named as the file names it, or
 * "adjusted" once a drag has left it; other images in their own pixel units.
 */
export function windowReadout(
  window: WindowLevel,
  display: DicomDisplay | null | undefined,
): string {
  const shown = display ? windowInModalityUnits(display, window) : window;
  const values = `W ${Math.round(shown.width)} / L ${Math.round(shown.center)}`;
  if (!display) return values;
  return window.voi
    ? `${values} · ${window.voi.preset.name} (file preset)`
    : `${values} · adjusted`;
}

export interface WindowPreset {
  id: string;
  label: string;
  /** Center and width as fractions of the full range, so a preset fits 8- and 16-bit alike. */
  center: number;
  width: number;
}

export const WINDOW_PRESETS: readonly WindowPreset[] = [
  { id: 'full', label: 'Full range', center: 0.5, width: 1 },
  { id: 'lung', label: 'Lung', center: 0.35, width: 0.6 },
  { id: 'soft', label: 'Soft tissue', center: 0.55, width: 0.4 },
  { id: 'bone', label: 'Bone', center: 0.75, width: 0.5 },
  { id: 'contrast', label: 'High contrast', center: 0.5, width: 0.3 },
];

export function maxValueForBitDepth(bitDepth: number): number {
  return bitDepth > 8 ? 65535 : 255;
}

export function presetWindow(preset: WindowPreset, maxValue: number, invert = false): WindowLevel {
  return { center: preset.center * maxValue, width: preset.width * maxValue, invert };
}

export function defaultWindow(maxValue: number): WindowLevel {
  return { center: maxValue / 2, width: maxValue, invert: false };
}

/**
 * Window from the 1st and 99th percentiles of the pixel values (what "auto" means in most
 * viewers); falls back to the full range for a flat image.
 */
export function autoWindow(values: ArrayLike<number>, maxValue: number): WindowLevel {
  const histogram = new Uint32Array(maxValue + 1);
  for (let i = 0; i < values.length; i++) histogram[values[i]]++;
  const low = values.length * 0.01;
  const high = values.length * 0.99;
  let seen = 0;
  let lo = 0;
  let hi = maxValue;
  let foundLow = false;
  for (let v = 0; v <= maxValue; v++) {
    seen += histogram[v];
    if (!foundLow && seen > low) {
      lo = v;
      foundLow = true;
    }
    if (seen >= high) {
      hi = v;
      break;
    }
  }
  if (hi <= lo) return defaultWindow(maxValue);
  return { center: (lo + hi) / 2, width: hi - lo, invert: false };
}

/**
 * Drag adjusts the window: horizontal motion widens (right) or narrows the window, vertical
 * motion moves the level (down = brighter image = lower center). `sensitivity` is the fraction of
 * the range per screen pixel.
 */
export function dragWindow(
  start: WindowLevel,
  dx: number,
  dy: number,
  maxValue: number,
  sensitivity = 1 / 512,
): WindowLevel {
  const step = maxValue * sensitivity;
  return {
    center: clamp(start.center - dy * step, 0, maxValue),
    width: clamp(start.width + dx * step, 1, maxValue * 2),
    invert: start.invert,
  };
}

/** Display byte for every source value 0..maxValue. */
export function buildLut(window: WindowLevel, maxValue: number): Uint8Array {
  if (window.voi)
    return displayLut(
      { ...window.voi.display, invert: window.invert },
      window.voi.preset,
      maxValue,
    );
  const lut = new Uint8Array(maxValue + 1);
  const low = window.center - window.width / 2;
  const scale = 255 / Math.max(1e-9, window.width);
  for (let v = 0; v <= maxValue; v++) {
    const display = clamp(Math.round((v - low) * scale), 0, 255);
    lut[v] = window.invert ? 255 - display : display;
  }
  return lut;
}

/** Writes the windowed grey image into RGBA pixels (alpha opaque). */
export function applyLut(
  values: ArrayLike<number>,
  lut: Uint8Array,
  rgba: Uint8ClampedArray,
): void {
  for (let i = 0, j = 0; i < values.length; i++, j += 4) {
    const g = lut[values[i]];
    rgba[j] = g;
    rgba[j + 1] = g;
    rgba[j + 2] = g;
    rgba[j + 3] = 255;
  }
}

function clamp(value: number, low: number, high: number): number {
  return value < low ? low : value > high ? high : value;
}
