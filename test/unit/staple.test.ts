/**
 * STAPLE, majority vote, Dice and kappa (src/core/math) against implementations that are not
 * ours: ITK's itk::STAPLEImageFilter (a small C++ program, test/fixtures/staple, built with cmake
 * against Debian's libinsighttoolkit5-dev once per run in this test's temp folder), statsmodels'
 * fleiss_kappa and sklearn's cohen_kappa_score (python3-statsmodels, python3-sklearn).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cohenKappa, dice, fleissKappa } from '../../src/core/math/agreement';
import { Random } from '../../src/core/math/random';
import { majorityVote, staple } from '../../src/core/math/staple';
import { tempDir } from './project-fixtures';

const FIXTURE = path.resolve(__dirname, '../fixtures/staple');
let work = '';
let itkStaple = '';
// Debian's Python, where python3-statsmodels and python3-sklearn are installed.
const PYTHON = '/usr/bin/python3';

beforeAll(() => {
  work = tempDir('staple');
  const build = path.join(work, 'build');
  execFileSync('cmake', ['-S', FIXTURE, '-B', build, '-DCMAKE_BUILD_TYPE=Release'], {
    stdio: 'pipe',
  });
  execFileSync('cmake', ['--build', build], { stdio: 'pipe' });
  itkStaple = path.join(build, 'itk-staple');
}, 180_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** A reader's outline of a lesion: an ellipse with a wobbling edge, drawn by this reader's hand. */
function readerMask(w: number, h: number, random: Random, cx: number, cy: number, r: number) {
  const mask = new Uint8Array(w * h);
  const dx = random.uniform(-2, 2);
  const dy = random.uniform(-2, 2);
  const scale = random.uniform(0.75, 1.25);
  const phase = random.uniform(0, Math.PI * 2);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const angle = Math.atan2(y - cy - dy, x - cx - dx);
      const edge = r * scale * (1 + 0.15 * Math.sin(3 * angle + phase));
      if (Math.hypot(x - cx - dx, (y - cy - dy) * 1.3) < edge) mask[y * w + x] = 255;
    }
  }
  // A few stray strokes elsewhere.
  for (let k = 0; k < 6; k++) mask[random.int(w * h)] = 255;
  return mask;
}

function runItk(masks: Uint8Array[], w: number, h: number) {
  const dir = fs.mkdtempSync(path.join(work, 'case-'));
  const files = masks.map((mask, j) => {
    const file = path.join(dir, `reader-${j}.raw`);
    fs.writeFileSync(file, mask);
    return file;
  });
  const out = path.join(dir, 'w.f64');
  const text = execFileSync(itkStaple, [String(w), String(h), out, ...files], {
    encoding: 'utf8',
  });
  const lines = text.trim().split('\n');
  const iterations = Number(lines.pop()!.split(' ')[1]);
  const pq = lines.map((line) => line.split(' ').map(Number));
  const bytes = fs.readFileSync(out);
  const probability = new Float64Array(bytes.buffer, bytes.byteOffset, w * h);
  return {
    probability,
    sensitivity: pq.map((v) => v[0]),
    specificity: pq.map((v) => v[1]),
    iterations,
  };
}

describe('STAPLE against ITK', () => {
  it.each([
    [3, 1],
    [4, 2],
    [5, 3],
    // Beyond 16 readers the call patterns are kept in a map, beyond 30 under string keys.
    [18, 4],
    [33, 5],
  ])('%i readers (seed %i): W per pixel, p and q as itk::STAPLEImageFilter', (readers, seed) => {
    const w = 48;
    const h = 40;
    const random = new Random(seed);
    const masks = Array.from({ length: readers }, () => readerMask(w, h, random, 24, 20, 11));
    const ours = staple(masks);
    const itk = runItk(masks, w, h);
    // ITK counts its iterations from 0 (the index of the last one); we count them.
    expect(ours.iterations).toBe(itk.iterations + 1);
    let largest = 0;
    let uncertain = 0;
    for (let i = 0; i < w * h; i++) {
      largest = Math.max(largest, Math.abs(ours.probability[i] - itk.probability[i]));
      if (itk.probability[i] > 0.01 && itk.probability[i] < 0.99) uncertain++;
    }
    // Float32 output against ITK's doubles.
    expect(largest).toBeLessThan(1e-6);
    // The readers disagree on a band of pixels, so W is not just 0/1 there.
    expect(uncertain).toBeGreaterThan(0);
    for (let j = 0; j < readers; j++) {
      expect(Math.abs(ours.sensitivity[j] - itk.sensitivity[j])).toBeLessThan(1e-9);
      expect(Math.abs(ours.specificity[j] - itk.specificity[j])).toBeLessThan(1e-9);
      expect(ours.sensitivity[j]).toBeGreaterThan(0.3);
      expect(ours.specificity[j]).toBeGreaterThan(0.9);
    }
  });

  it('a reader who marks half the lesion gets a lower sensitivity than the others', () => {
    const w = 40;
    const h = 40;
    const random = new Random(7);
    const masks = Array.from({ length: 3 }, () => readerMask(w, h, random, 20, 20, 10));
    const partial = masks[0].map((v, i) => (i % w < 15 ? v : 0));
    const ours = staple([partial, masks[1], masks[2]]);
    const itk = runItk([partial, masks[1], masks[2]], w, h);
    expect(ours.sensitivity[0]).toBeLessThan(Math.min(ours.sensitivity[1], ours.sensitivity[2]));
    expect(Math.abs(ours.sensitivity[0] - itk.sensitivity[0])).toBeLessThan(1e-9);
  });

  it('every reader empty: probability 0, p = q = 1, no NaN (ITK gives NaN here)', () => {
    const masks = [new Uint8Array(64), new Uint8Array(64), new Uint8Array(64)];
    const result = staple(masks);
    expect(Array.from(result.probability).every((v) => v === 0)).toBe(true);
    expect(result.sensitivity).toEqual([1, 1, 1]);
    expect(result.specificity).toEqual([1, 1, 1]);
    const itk = runItk(masks, 8, 8);
    expect(Number.isNaN(itk.sensitivity[0])).toBe(true);
  });

  it('one reader marks a lesion, the others none: finite figures', () => {
    const masks = [new Uint8Array(100), new Uint8Array(100), new Uint8Array(100)];
    masks[0].fill(255, 10, 30);
    const result = staple(masks);
    for (const v of [...result.sensitivity, ...result.specificity, ...result.probability]) {
      expect(Number.isFinite(v)).toBe(true);
    }
  });
});

describe('majority vote and Dice', () => {
  it('needs a strict majority: a 2-2 tie is background', () => {
    const a = Uint8Array.from([255, 255, 0, 0]);
    const b = Uint8Array.from([255, 0, 255, 0]);
    const c = Uint8Array.from([255, 255, 0, 0]);
    const d = Uint8Array.from([0, 0, 255, 0]);
    expect(Array.from(majorityVote([a, b, c]))).toEqual([255, 255, 0, 0]);
    expect(Array.from(majorityVote([a, b, c, d]))).toEqual([255, 0, 0, 0]);
    expect(Array.from(majorityVote([a, d]))).toEqual([0, 0, 0, 0]);
  });

  it('Dice: overlap, and two empty masks agree and say so', () => {
    const a = Uint8Array.from([255, 255, 0, 0]);
    const b = Uint8Array.from([255, 0, 255, 0]);
    expect(dice(a, b)).toEqual({ dice: 0.5, bothEmpty: false });
    expect(dice(new Uint8Array(4), new Uint8Array(4))).toEqual({ dice: 1, bothEmpty: true });
    expect(dice(a, new Uint8Array(4))).toEqual({ dice: 0, bothEmpty: false });
  });
});

describe('kappa against statsmodels and sklearn', () => {
  function python(script: string, input: unknown): number {
    const result = spawnSync(PYTHON, ['-c', script], {
      input: JSON.stringify(input),
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(result.stderr);
    return Number(result.stdout.trim());
  }

  it('Fleiss kappa on negative/positive as statsmodels fleiss_kappa', () => {
    const random = new Random(11);
    for (const raters of [3, 4, 6]) {
      const items = Array.from({ length: 25 }, () => {
        const lean = random.next();
        let positive = 0;
        for (let r = 0; r < raters; r++) if (random.next() < lean) positive++;
        return [raters - positive, positive] as [number, number];
      });
      const theirs = python(
        'import json,sys\nfrom statsmodels.stats.inter_rater import fleiss_kappa\n' +
          'print(repr(fleiss_kappa(json.load(sys.stdin), method="fleiss")))',
        items,
      );
      expect(fleissKappa(items)).toBeCloseTo(theirs, 12);
    }
  });

  it("Cohen's kappa as sklearn cohen_kappa_score", () => {
    const random = new Random(5);
    const a = Array.from({ length: 30 }, () => random.next() < 0.4);
    const b = a.map((v) => (random.next() < 0.8 ? v : !v));
    const theirs = python(
      'import json,sys\nfrom sklearn.metrics import cohen_kappa_score\n' +
        'a,b=json.load(sys.stdin)\nprint(repr(cohen_kappa_score(a,b)))',
      [a.map(Number), b.map(Number)],
    );
    expect(cohenKappa(a, b)).toBeCloseTo(theirs, 12);
  });

  it('undefined kappa (every call the same) is null, where the references give NaN', () => {
    expect(cohenKappa([true, true], [true, true])).toBeNull();
    expect(
      fleissKappa([
        [0, 3],
        [0, 3],
      ]),
    ).toBeNull();
    const theirs = python(
      'import json,sys\nfrom statsmodels.stats.inter_rater import fleiss_kappa\n' +
        'import warnings\nwarnings.simplefilter("ignore")\n' +
        'print(repr(fleiss_kappa(json.load(sys.stdin))))',
      [
        [0, 3],
        [0, 3],
      ],
    );
    expect(Number.isNaN(theirs)).toBe(true);
  });
});
