import { describe, expect, it } from 'vitest';
import type { DicomDisplay } from '../../src/shared/dicom-voi';
import { lesionAreaMm2 } from '../../src/renderer/src/review/dicom-info';
import { buildLut, dicomWindow } from '../../src/renderer/src/viewer/window-level';

describe('DICOM windows in the viewer', () => {
  const display: DicomDisplay = {
    slope: 1,
    intercept: -1024,
    invert: true,
    presets: [{ kind: 'window', name: 'SOFT', center: 0, width: 1000, fn: 'LINEAR' }],
  };

  it('opens a MONOCHROME1 preset inverted, in PNG value units, through the VOI function', () => {
    const window = dicomWindow(display, display.presets[0]);
    expect(window).toMatchObject({ center: 1024, width: 1000, invert: true });
    const lut = buildLut(window, 4095);
    // Modality -1024 (PNG 0) is far below the window: black before inversion, white after.
    expect(lut[0]).toBe(255);
    expect(lut[4095]).toBe(0);
    expect(buildLut({ ...window, invert: false }, 4095)[0]).toBe(0);
  });

  it('gives lesion areas in mm² from the pixel spacing', () => {
    // 10% of 100 x 50 pixels of 0.2 x 0.5 mm.
    expect(lesionAreaMm2(10, 100, 50, [0.2, 0.5])).toBe('50.0');
  });
});
