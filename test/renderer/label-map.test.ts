import { describe, expect, it } from 'vitest';
import {
  acceptPrediction,
  binarize,
  componentCount,
  connectedComponents,
  createLabelMap,
  dilate,
  dropComponent,
  erode,
  fillHoles,
  fillPolygon,
  floodFill,
  foregroundCount,
  keepComponent,
  paintSegment,
  paintStroke,
  removeIslands,
  thresholdInto,
  thresholdProbability,
  type LabelMap,
} from '../../src/renderer/src/mask/label-map';
import { confusion } from '../../src/shared/metrics';

/** Builds a map from rows of '#' (foreground) and '.' (background). */
function fromRows(rows: string[]): LabelMap {
  const height = rows.length;
  const width = rows[0].length;
  const map = createLabelMap(width, height);
  rows.forEach((row, y) =>
    [...row].forEach((c, x) => (map.data[y * width + x] = c === '#' ? 1 : 0)),
  );
  return map;
}

function toRows(map: LabelMap): string[] {
  const rows: string[] = [];
  for (let y = 0; y < map.height; y++) {
    let row = '';
    for (let x = 0; x < map.width; x++) row += map.data[y * map.width + x] ? '#' : '.';
    rows.push(row);
  }
  return rows;
}

describe('brush and eraser', () => {
  it('a single dab paints a disc of the given radius', () => {
    const map = createLabelMap(21, 21);
    paintSegment(map, { x: 10.5, y: 10.5 }, { x: 10.5, y: 10.5 }, 3, 1);
    // Pixel centres within 3 of (10.5, 10.5): offsets (dx, dy) with dx^2 + dy^2 <= 9.
    let expected = 0;
    for (let dy = -3; dy <= 3; dy++)
      for (let dx = -3; dx <= 3; dx++) if (dx * dx + dy * dy <= 9) expected++;
    expect(foregroundCount(map.data)).toBe(expected);
    expect(map.data[10 * 21 + 10]).toBe(1);
    expect(map.data[10 * 21 + 14]).toBe(0);
  });

  it('a fast stroke between two far pointer events leaves no gap', () => {
    const map = createLabelMap(100, 20);
    paintStroke(
      map,
      [
        { x: 5, y: 10 },
        { x: 95, y: 10 },
      ],
      2,
      1,
    );
    for (let x = 5; x < 95; x++) expect(map.data[10 * 100 + x]).toBe(1);
    expect(map.data[2 * 100 + 50]).toBe(0);
  });

  it('returns the dirty rectangle clipped to the image and erases with value 0', () => {
    const map = createLabelMap(10, 10);
    map.data.fill(1);
    const dirty = paintSegment(map, { x: 0, y: 0 }, { x: 0, y: 0 }, 2, 0);
    expect(dirty.x0).toBe(0);
    expect(dirty.y0).toBe(0);
    expect(dirty.x1).toBeLessThanOrEqual(4);
    expect(map.data[0]).toBe(0);
    expect(map.data[99]).toBe(1);
  });
});

describe('polygon', () => {
  it('adds an axis-aligned square exactly', () => {
    const map = createLabelMap(10, 10);
    fillPolygon(
      map,
      [
        { x: 2, y: 2 },
        { x: 6, y: 2 },
        { x: 6, y: 5 },
        { x: 2, y: 5 },
      ],
      1,
    );
    expect(foregroundCount(map.data)).toBe(4 * 3);
    expect(map.data[2 * 10 + 2]).toBe(1);
    expect(map.data[5 * 10 + 2]).toBe(0);
  });

  it('cuts a triangle out of a full map', () => {
    const map = createLabelMap(8, 8);
    map.data.fill(1);
    fillPolygon(
      map,
      [
        { x: 0, y: 0 },
        { x: 8, y: 0 },
        { x: 0, y: 8 },
      ],
      0,
    );
    // Pixel centres with x + y < 8 - 1 (strictly inside the triangle x + y < 8 at centres).
    let cut = 0;
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) if (x + 0.5 + (y + 0.5) < 8) cut++;
    expect(64 - foregroundCount(map.data)).toBe(cut);
  });
});

describe('region operations', () => {
  it('flood fill fills the 4-connected region only', () => {
    const map = fromRows(['.....', '.###.', '.#.#.', '.###.', '.....']);
    floodFill(map, 2, 2, 1);
    expect(toRows(map)).toEqual(['.....', '.###.', '.###.', '.###.', '.....']);
    floodFill(map, 0, 0, 1);
    expect(foregroundCount(map.data)).toBe(25);
  });

  it('fill holes closes enclosed background but not background reaching the border', () => {
    const map = fromRows(['......', '.####.', '.#..#.', '.####.', '.#..#.', '.#..#.']);
    fillHoles(map);
    expect(toRows(map)).toEqual(['......', '.####.', '.####.', '.####.', '.#..#.', '.#..#.']);
  });

  it('remove islands drops components smaller than N and keeps the rest', () => {
    const map = fromRows(['##....', '##..#.', '......', '...###', '...###']);
    removeIslands(map, 4);
    expect(toRows(map)).toEqual(['##....', '##....', '......', '...###', '...###']);
  });

  it('connected components are 8-connected', () => {
    const map = fromRows(['#...', '.#..', '...#', '...#']);
    const { count, sizes } = connectedComponents(map.data, map.width, map.height);
    expect(count).toBe(2);
    expect(sizes.slice(1).sort()).toEqual([2, 2]);
    expect(componentCount(map)).toBe(2);
  });

  it('dilate then erode by one pixel with the cross', () => {
    const map = fromRows(['.....', '.....', '..#..', '.....', '.....']);
    dilate(map);
    expect(toRows(map)).toEqual(['.....', '..#..', '.###.', '..#..', '.....']);
    erode(map);
    expect(toRows(map)).toEqual(['.....', '.....', '..#..', '.....', '.....']);
  });

  it('keep adds the clicked predicted component; drop removes the clicked label component', () => {
    const prediction = fromRows(['##...', '##...', '.....', '...##', '...##']).data;
    const label = createLabelMap(5, 5);
    keepComponent(label, prediction, 3.5, 3.5);
    expect(toRows(label)).toEqual(['.....', '.....', '.....', '...##', '...##']);
    keepComponent(label, prediction, 2, 2); // background click: nothing
    expect(foregroundCount(label.data)).toBe(4);
    dropComponent(label, 4, 4);
    expect(foregroundCount(label.data)).toBe(0);
  });
});

describe('prediction into the label', () => {
  const probability = Uint8Array.from([0, 10, 127, 128, 200, 255]);

  it('thresholds with the same rule as the shared metrics', () => {
    const binary = thresholdProbability(probability, 0.5);
    expect([...binary]).toEqual([0, 0, 0, 1, 1, 1]);
    const reference = Uint8Array.from([1, 1, 1, 1, 1, 1]);
    expect(confusion(binary, reference).tp).toBe(confusion(probability, reference, 0.5).tp);
  });

  it('threshold-into adds, accept replaces', () => {
    const map = createLabelMap(6, 1, Uint8Array.from([1, 0, 0, 0, 0, 0]));
    thresholdInto(map, probability, 0.5);
    expect([...map.data]).toEqual([1, 0, 0, 1, 1, 1]);
    acceptPrediction(map, probability, 0.9);
    expect([...map.data]).toEqual([0, 0, 0, 0, 0, 1]);
  });

  it('binarize maps PNG 0/255 masks to 0/1', () => {
    expect([...binarize([0, 255, 1])]).toEqual([0, 1, 1]);
  });
});
