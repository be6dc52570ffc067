/**
 * Editing operations on a binary label map: one byte per pixel, 0 = background, 1 = foreground.
 * Every operation mutates `map.data` in place (the editor keeps one buffer per image and saves a
 * PNG of it when the edit ends) and returns the rectangle it may have changed, so the viewer only
 * re-blits that part of its offscreen canvas.
 */

export interface LabelMap {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Half-open pixel rectangle [x0, x1) x [y0, y1); empty when x1 <= x0 or y1 <= y0. */
export interface DirtyRect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface Point {
  x: number;
  y: number;
}

export const EMPTY_RECT: DirtyRect = { x0: 0, y0: 0, x1: 0, y1: 0 };

export function createLabelMap(width: number, height: number, data?: Uint8Array): LabelMap {
  if (data && data.length !== width * height) {
    throw new Error(`label data has ${data.length} pixels, expected ${width * height}`);
  }
  return { width, height, data: data ?? new Uint8Array(width * height) };
}

export function cloneLabelMap(map: LabelMap): LabelMap {
  return { width: map.width, height: map.height, data: map.data.slice() };
}

export function fullRect(map: LabelMap): DirtyRect {
  return { x0: 0, y0: 0, x1: map.width, y1: map.height };
}

export function unionRect(a: DirtyRect, b: DirtyRect): DirtyRect {
  if (a.x1 <= a.x0 || a.y1 <= a.y0) return b;
  if (b.x1 <= b.x0 || b.y1 <= b.y0) return a;
  return {
    x0: Math.min(a.x0, b.x0),
    y0: Math.min(a.y0, b.y0),
    x1: Math.max(a.x1, b.x1),
    y1: Math.max(a.y1, b.y1),
  };
}

function clampRect(map: LabelMap, rect: DirtyRect): DirtyRect {
  return {
    x0: Math.max(0, Math.min(map.width, rect.x0)),
    y0: Math.max(0, Math.min(map.height, rect.y0)),
    x1: Math.max(0, Math.min(map.width, rect.x1)),
    y1: Math.max(0, Math.min(map.height, rect.y1)),
  };
}

/** Any non-zero byte becomes 1 (PNG masks arrive as 0/255). */
export function binarize(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] > 0 ? 1 : 0;
  return out;
}

/**
 * Paints the capsule of radius `radius` around the segment p0-p1 (a brush or eraser dab swept
 * along the pointer's path). Pixel centres within the radius of the segment are set, so fast
 * strokes leave no gaps between pointer events. A single point is a segment of length zero.
 */
export function paintSegment(
  map: LabelMap,
  p0: Point,
  p1: Point,
  radius: number,
  value: 0 | 1,
): DirtyRect {
  const r = Math.max(0.5, radius);
  const rect = clampRect(map, {
    x0: Math.floor(Math.min(p0.x, p1.x) - r),
    y0: Math.floor(Math.min(p0.y, p1.y) - r),
    x1: Math.ceil(Math.max(p0.x, p1.x) + r) + 1,
    y1: Math.ceil(Math.max(p0.y, p1.y) + r) + 1,
  });
  const dx = p1.x - p0.x;
  const dy = p1.y - p0.y;
  const lengthSquared = dx * dx + dy * dy;
  const r2 = r * r;
  const { data, width } = map;
  for (let y = rect.y0; y < rect.y1; y++) {
    const cy = y + 0.5;
    for (let x = rect.x0; x < rect.x1; x++) {
      const cx = x + 0.5;
      let t = lengthSquared === 0 ? 0 : ((cx - p0.x) * dx + (cy - p0.y) * dy) / lengthSquared;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const ex = cx - (p0.x + t * dx);
      const ey = cy - (p0.y + t * dy);
      if (ex * ex + ey * ey <= r2) data[y * width + x] = value;
    }
  }
  return rect;
}

/** Paints a whole polyline stroke (the same as the viewer's incremental segments). */
export function paintStroke(
  map: LabelMap,
  points: readonly Point[],
  radius: number,
  value: 0 | 1,
): DirtyRect {
  let dirty = EMPTY_RECT;
  if (points.length === 0) return dirty;
  if (points.length === 1) return paintSegment(map, points[0], points[0], radius, value);
  for (let i = 1; i < points.length; i++) {
    dirty = unionRect(dirty, paintSegment(map, points[i - 1], points[i], radius, value));
  }
  return dirty;
}

/**
 * Fills the polygon (even-odd rule, pixel centres) with `value`: 1 adds, 0 cuts. Coordinates are
 * in image pixels where pixel (x, y) covers [x, x+1) x [y, y+1).
 */
export function fillPolygon(map: LabelMap, polygon: readonly Point[], value: 0 | 1): DirtyRect {
  if (polygon.length < 3) return EMPTY_RECT;
  let minY = Infinity;
  let maxY = -Infinity;
  let minX = Infinity;
  let maxX = -Infinity;
  for (const p of polygon) {
    minY = Math.min(minY, p.y);
    maxY = Math.max(maxY, p.y);
    minX = Math.min(minX, p.x);
    maxX = Math.max(maxX, p.x);
  }
  const y0 = Math.max(0, Math.floor(minY));
  const y1 = Math.min(map.height, Math.ceil(maxY) + 1);
  const crossings: number[] = [];
  for (let y = y0; y < y1; y++) {
    const cy = y + 0.5;
    crossings.length = 0;
    for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
      const a = polygon[i];
      const b = polygon[j];
      if (a.y <= cy !== b.y <= cy) {
        crossings.push(a.x + ((cy - a.y) / (b.y - a.y)) * (b.x - a.x));
      }
    }
    crossings.sort((p, q) => p - q);
    for (let k = 0; k + 1 < crossings.length; k += 2) {
      // Pixel x is inside when its centre x + 0.5 lies in [left, right).
      const xStart = Math.max(0, Math.ceil(crossings[k] - 0.5));
      const xEnd = Math.min(map.width, Math.ceil(crossings[k + 1] - 0.5));
      const row = y * map.width;
      for (let x = xStart; x < xEnd; x++) map.data[row + x] = value;
    }
  }
  return clampRect(map, {
    x0: Math.floor(minX),
    y0,
    x1: Math.ceil(maxX) + 1,
    y1,
  });
}

/**
 * Visits the 4- or 8-connected region of pixels equal to `data[seed]`, calling `visit` per pixel.
 * Iterative with an explicit stack (a 1024x1024 region would overflow recursion).
 */
function floodRegion(
  data: Uint8Array,
  width: number,
  height: number,
  seed: number,
  connectivity: 4 | 8,
  seen: Uint8Array,
  visit: (index: number) => void,
): void {
  const target = data[seed];
  const stack = [seed];
  seen[seed] = 1;
  while (stack.length > 0) {
    const index = stack.pop()!;
    visit(index);
    const x = index % width;
    const y = (index - x) / width;
    for (let dy = -1; dy <= 1; dy++) {
      const ny = y + dy;
      if (ny < 0 || ny >= height) continue;
      for (let dx = -1; dx <= 1; dx++) {
        if (dx === 0 && dy === 0) continue;
        if (connectivity === 4 && dx !== 0 && dy !== 0) continue;
        const nx = x + dx;
        if (nx < 0 || nx >= width) continue;
        const next = ny * width + nx;
        if (!seen[next] && data[next] === target) {
          seen[next] = 1;
          stack.push(next);
        }
      }
    }
  }
}

/** Flood fill: the 4-connected region under (x, y) takes `value`. */
export function floodFill(map: LabelMap, x: number, y: number, value: 0 | 1): DirtyRect {
  const px = Math.floor(x);
  const py = Math.floor(y);
  if (px < 0 || py < 0 || px >= map.width || py >= map.height) return EMPTY_RECT;
  const seed = py * map.width + px;
  if (map.data[seed] === value) return EMPTY_RECT;
  const seen = new Uint8Array(map.data.length);
  const region: number[] = [];
  floodRegion(map.data, map.width, map.height, seed, 4, seen, (i) => region.push(i));
  return setPixels(map, region, value);
}

function setPixels(map: LabelMap, indices: readonly number[], value: 0 | 1): DirtyRect {
  if (indices.length === 0) return EMPTY_RECT;
  let x0 = map.width;
  let y0 = map.height;
  let x1 = 0;
  let y1 = 0;
  for (const index of indices) {
    map.data[index] = value;
    const x = index % map.width;
    const y = (index - x) / map.width;
    if (x < x0) x0 = x;
    if (y < y0) y0 = y;
    if (x + 1 > x1) x1 = x + 1;
    if (y + 1 > y1) y1 = y + 1;
  }
  return { x0, y0, x1, y1 };
}

export interface Components {
  /** Component id per pixel (1..count), 0 for background. */
  labels: Int32Array;
  count: number;
  /** sizes[id] = pixel count of component id (sizes[0] unused). */
  sizes: number[];
}

/** 8-connected components of the foreground (non-zero) pixels. */
export function connectedComponents(data: Uint8Array, width: number, height: number): Components {
  const labels = new Int32Array(data.length);
  const sizes = [0];
  const seen = new Uint8Array(data.length);
  let count = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0 || seen[i]) continue;
    count++;
    let size = 0;
    const id = count;
    floodRegion(data, width, height, i, 8, seen, (index) => {
      labels[index] = id;
      size++;
    });
    sizes.push(size);
  }
  return { labels, count, sizes };
}

export function componentCount(map: LabelMap): number {
  return connectedComponents(map.data, map.width, map.height).count;
}

/**
 * The pixels of the 8-connected foreground component of `source` under (x, y) (empty when the
 * click is on background). `source` is binary data of the same size as the map.
 */
export function componentAt(
  source: Uint8Array,
  width: number,
  height: number,
  x: number,
  y: number,
): number[] {
  const px = Math.floor(x);
  const py = Math.floor(y);
  if (px < 0 || py < 0 || px >= width || py >= height) return [];
  const seed = py * width + px;
  if (source[seed] === 0) return [];
  const pixels: number[] = [];
  floodRegion(source, width, height, seed, 8, new Uint8Array(source.length), (i) => pixels.push(i));
  return pixels;
}

/** Keep: the component of `source` (e.g. the thresholded prediction) under the click joins the label. */
export function keepComponent(map: LabelMap, source: Uint8Array, x: number, y: number): DirtyRect {
  return setPixels(map, componentAt(source, map.width, map.height, x, y), 1);
}

/**
 * Drop: removes from the label the component under the click, taken from the label itself when
 * the click is on it, otherwise from `source` (a predicted component the label overlaps).
 */
export function dropComponent(map: LabelMap, x: number, y: number, source?: Uint8Array): DirtyRect {
  let pixels = componentAt(map.data, map.width, map.height, x, y);
  if (pixels.length === 0 && source) pixels = componentAt(source, map.width, map.height, x, y);
  return setPixels(map, pixels, 0);
}

/** Background regions not 4-connected to the border become foreground. */
export function fillHoles(map: LabelMap): DirtyRect {
  const { width, height, data } = map;
  const outside = new Uint8Array(data.length);
  const seen = new Uint8Array(data.length);
  const markOutside = (index: number) => {
    if (data[index] === 0 && !seen[index]) {
      floodRegion(data, width, height, index, 4, seen, (i) => (outside[i] = 1));
    }
  };
  for (let x = 0; x < width; x++) {
    markOutside(x);
    markOutside((height - 1) * width + x);
  }
  for (let y = 0; y < height; y++) {
    markOutside(y * width);
    markOutside(y * width + width - 1);
  }
  const holes: number[] = [];
  for (let i = 0; i < data.length; i++) if (data[i] === 0 && !outside[i]) holes.push(i);
  return setPixels(map, holes, 1);
}

/** Foreground components smaller than `minPixels` are erased. */
export function removeIslands(map: LabelMap, minPixels: number): DirtyRect {
  const { labels, sizes } = connectedComponents(map.data, map.width, map.height);
  const small: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] > 0 && sizes[labels[i]] < minPixels) small.push(i);
  }
  return setPixels(map, small, 0);
}

/**
 * One step of binary morphology with the 3x3 cross: dilate sets a pixel when it or a 4-neighbour
 * is foreground; erode keeps a pixel only when it and its 4 neighbours are foreground (pixels
 * outside the image count as background).
 */
function morph(map: LabelMap, dilate: boolean): DirtyRect {
  const { width, height } = map;
  const source = map.data.slice();
  const at = (x: number, y: number) =>
    x < 0 || y < 0 || x >= width || y >= height ? 0 : source[y * width + x];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = source[y * width + x];
      const n = at(x - 1, y) + at(x + 1, y) + at(x, y - 1) + at(x, y + 1);
      map.data[y * width + x] = dilate ? (c || n > 0 ? 1 : 0) : c && n === 4 ? 1 : 0;
    }
  }
  return fullRect(map);
}

export function dilate(map: LabelMap): DirtyRect {
  return morph(map, true);
}

export function erode(map: LabelMap): DirtyRect {
  return morph(map, false);
}

export function clearLabel(map: LabelMap): DirtyRect {
  map.data.fill(0);
  return fullRect(map);
}

/**
 * Binary foreground of a probability map stored as 0..255: the same rule as `confusion` in
 * src/shared/metrics.ts (value >= threshold * 255 and non-zero), so the UI and the server agree.
 */
export function thresholdProbability(
  probability: ArrayLike<number>,
  threshold: number,
): Uint8Array {
  const cut = threshold * 255;
  const out = new Uint8Array(probability.length);
  for (let i = 0; i < probability.length; i++) {
    const v = probability[i];
    out[i] = v >= cut && v > 0 ? 1 : 0;
  }
  return out;
}

/** Threshold the prediction into the label: predicted foreground is added to what is there. */
export function thresholdInto(
  map: LabelMap,
  probability: ArrayLike<number>,
  threshold: number,
): DirtyRect {
  const binary = thresholdProbability(probability, threshold);
  for (let i = 0; i < binary.length; i++) if (binary[i]) map.data[i] = 1;
  return fullRect(map);
}

/** Accept the prediction as the label: the label becomes the thresholded prediction. */
export function acceptPrediction(
  map: LabelMap,
  probability: ArrayLike<number>,
  threshold: number,
): DirtyRect {
  map.data.set(thresholdProbability(probability, threshold));
  return fullRect(map);
}

export function foregroundCount(data: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < data.length; i++) if (data[i] > 0) n++;
  return n;
}

/** Lesion area as a percentage of the image. */
export function areaPercent(data: ArrayLike<number>): number {
  return data.length === 0 ? 0 : (100 * foregroundCount(data)) / data.length;
}
