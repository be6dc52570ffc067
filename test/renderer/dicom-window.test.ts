import { describe, expect, it } from 'vitest';
import type { DicomDisplay } from '../../src/shared/dicom-voi';
import { lesionAreaMm2 } from '../../src/renderer/src/review/dicom-info';
import { buildLut, dicomWindow, windowReadout } from '../../src/renderer/src/viewer/window-level';

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

  it('reads the window out in modality units with the file preset in force, or adjusted after a drag', () => {
    // An MR stored signed with a rescale: the file says WC 600 / WW 1200, PNG units differ.
    const mr: DicomDisplay = {
      slope: 2,
      intercept: -32768,
      invert: false,
      presets: [
        { kind: 'window', name: 'BRAIN', center: 600, width: 1200, fn: 'LINEAR' },
        { kind: 'window', name: 'Window 2', center: 40, width: 400, fn: 'LINEAR' },
      ],
    };
    const brain = dicomWindow(mr, mr.presets[0]);
    expect(brain.center).toBe(16684); // (600 + 32768) / 2: what "L 16684" used to show
    expect(windowReadout(brain, mr)).toBe('W 1200 / L 600 · BRAIN (file preset)');
    const second = dicomWindow(mr, mr.presets[1]);
    expect(windowReadout(second, mr)).toBe('W 400 / L 40 · Window 2 (file preset)');
    const dragged = { center: brain.center + 10, width: brain.width, invert: false };
    expect(windowReadout(dragged, mr)).toBe('W 1200 / L 620 · adjusted');
    expect(windowReadout({ center: 127.5, width: 255, invert: false }, null)).toBe('W 255 / L 128');
  });

  it('gives lesion areas in mm² from the pixel spacing', () => {
    // 10% of 100 x 50 pixels of 0.2 x 0.5 mm.
    expect(lesionAreaMm2(10, 100, 50, [0.2, 0.5])).toBe('50.0');
  });
});
