import { describe, expect, it } from 'vitest';
import {
  DIFF_FN,
  DIFF_FP,
  DIFF_TP,
  diffClasses,
  diffMetrics,
  layerFigures,
} from '../../src/renderer/src/mask/diff';
import { maskMetrics } from '../../src/shared/metrics';
import {
  applyLut,
  autoWindow,
  buildLut,
  defaultWindow,
  dragWindow,
  maxValueForBitDepth,
  presetWindow,
  WINDOW_PRESETS,
} from '../../src/renderer/src/viewer/window-level';
import { chordOf, formatChord, pressableChord } from '../../src/renderer/src/editor/chords';
import { ACTIONS, actionForKey } from '../../src/renderer/src/editor/registry';

describe('diff', () => {
  it('classes and counts agree with each other and with the shared metrics', () => {
    const candidate = Uint8Array.from([1, 1, 0, 0, 1, 0]);
    const reference = Uint8Array.from([1, 0, 1, 0, 1, 1]);
    const classes = diffClasses(candidate, reference);
    expect([...classes]).toEqual([DIFF_TP, DIFF_FP, DIFF_FN, 0, DIFF_TP, DIFF_FN]);
    const m = diffMetrics(candidate, reference);
    expect([m.tp, m.fp, m.fn, m.tn]).toEqual([2, 1, 2, 1]);
    expect(m.dice).toBeCloseTo(maskMetrics(candidate, reference).dice);
    expect(m.dice).toBeCloseTo(4 / 7);
  });

  it('area percent and component count', () => {
    const data = Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 1, 1]);
    const figures = layerFigures(data, 3, 3);
    expect(figures.areaPercent).toBeCloseTo(100 / 3);
    expect(figures.components).toBe(2);
  });
});

describe('window / level', () => {
  it('default window is identity on 8-bit', () => {
    const lut = buildLut(defaultWindow(255), 255);
    expect(lut[0]).toBe(0);
    expect(lut[255]).toBe(255);
    expect(Math.abs(lut[100] - 100)).toBeLessThanOrEqual(1);
  });

  it('16-bit window maps its bounds to black and white and invert flips', () => {
    const max = maxValueForBitDepth(16);
    expect(max).toBe(65535);
    const window = { center: 30000, width: 20000, invert: false };
    const lut = buildLut(window, max);
    expect(lut[20000]).toBe(0);
    expect(lut[40000]).toBe(255);
    expect(lut[10000]).toBe(0);
    expect(lut[30000]).toBeGreaterThan(120);
    expect(lut[30000]).toBeLessThan(135);
    const inverted = buildLut({ ...window, invert: true }, max);
    expect(inverted[20000]).toBe(255);
    const rgba = new Uint8ClampedArray(8);
    applyLut(Uint16Array.from([20000, 40000]), lut, rgba);
    expect([...rgba]).toEqual([0, 0, 0, 255, 255, 255, 255, 255]);
  });

  it('presets scale with bit depth; drag widens and moves the level', () => {
    const lung = WINDOW_PRESETS.find((p) => p.id === 'lung')!;
    expect(presetWindow(lung, 255).center).toBeCloseTo(0.35 * 255);
    expect(presetWindow(lung, 65535).width).toBeCloseTo(0.6 * 65535);
    const start = defaultWindow(255);
    const dragged = dragWindow(start, 100, -50, 255);
    expect(dragged.width).toBeGreaterThan(start.width);
    expect(dragged.center).toBeGreaterThan(start.center);
  });

  it('auto window spans the 1st..99th percentile', () => {
    const values = new Uint8Array(1000);
    for (let i = 0; i < 1000; i++) values[i] = 50 + (i % 101);
    const w = autoWindow(values, 255);
    expect(w.center - w.width / 2).toBeGreaterThanOrEqual(50);
    expect(w.center + w.width / 2).toBeLessThanOrEqual(150);
    expect(w.width).toBeGreaterThan(90);
  });
});

describe('keymap', () => {
  const key = (
    k: string,
    mods: Partial<{ ctrl: boolean; shift: boolean; alt: boolean; meta: boolean }> = {},
  ) => ({
    key: k,
    ctrlKey: !!mods.ctrl,
    metaKey: !!mods.meta,
    altKey: !!mods.alt,
    shiftKey: !!mods.shift,
  });

  it('resolves chords, with Cmd as Ctrl and shifted symbols as themselves', () => {
    const idFor = (...args: Parameters<typeof key>) => actionForKey(key(...args))?.id;
    expect(idFor('z', { ctrl: true })).toBe('edit.undo');
    expect(idFor('Z', { ctrl: true, shift: true })).toBe('edit.redo');
    expect(idFor('z', { meta: true })).toBe('edit.undo');
    expect(idFor('?', { shift: true })).toBe('help');
    expect(idFor('[', {})).toBe('brush.smaller');
    expect(idFor('+', { shift: true })).toBe('view.zoomIn');
    expect(idFor('N', { shift: true })).toBe('nav.previousUnreviewed');
    expect(idFor('n')).toBe('nav.nextUnreviewed');
    expect(idFor('ArrowDown')).toBe('nav.next');
    expect(idFor('q')).toBeUndefined();
    expect(chordOf(key(' '))).toBe('space');
  });

  it('chords become the key names input automation presses', () => {
    expect(pressableChord('shift+t')).toBe('Shift+T');
    expect(pressableChord('ctrl+shift+z')).toBe('Control+Shift+Z');
    expect(pressableChord('shift+delete')).toBe('Shift+Delete');
    expect(pressableChord('?')).toBe('?');
    expect(pressableChord('+')).toBe('+');
    expect(pressableChord('arrowdown')).toBe('ArrowDown');
  });

  it('every action has a description and every key is bound once in its scope', () => {
    const seen = new Set<string>();
    for (const s of ACTIONS) {
      expect(s.description.length).toBeGreaterThan(0);
      for (const k of s.keys) {
        const scoped = `${s.scope ?? 'review'} ${k}`;
        expect(seen.has(scoped), scoped).toBe(false);
        seen.add(scoped);
      }
    }
    // A scope's keys reach only its own actions: 1 is 1:1 on the review screen, reader 1 in the
    // adjudicator's panel; c the label layer there, the consensus outline here.
    expect(actionForKey(key('1'))?.id).toBe('view.actualSize');
    expect(actionForKey(key('1'), 'adjudication')?.id).toBe('adjudication.reader1');
    expect(actionForKey(key('c'))?.id).toBe('layer.label');
    expect(actionForKey(key('c'), 'adjudication')?.id).toBe('adjudication.outline');
    expect(actionForKey(key('z', { ctrl: true }), 'adjudication')).toBeUndefined();
    expect(formatChord('ctrl+shift+z')).toBe('Ctrl+Shift+Z');
    expect(formatChord('+')).toBe('+');
    expect(formatChord('ctrl++')).toBe('Ctrl++');
  });
});
