/**
 * The adjudication view's picture: the image in gray, each shown reader's label in its own colour,
 * the consensus probability map and outline, and the candidate final label's outline. Pure: one
 * RGBA buffer from the layers, so it is drawn with a single putImageData.
 */

/** Reader colours by index (1..9), distinct on a gray radiograph. */
export const READER_COLOURS: [number, number, number][] = [
  [230, 60, 60],
  [60, 140, 240],
  [60, 200, 90],
  [240, 170, 30],
  [180, 80, 220],
  [30, 200, 200],
  [240, 110, 180],
  [150, 150, 60],
  [120, 90, 60],
];

export function readerColour(index: number): string {
  const [r, g, b] = READER_COLOURS[(index - 1) % READER_COLOURS.length];
  return `rgb(${r}, ${g}, ${b})`;
}

export interface Layers {
  width: number;
  height: number;
  image: Uint8Array | null;
  /** Shown readers' labels (0/255) with their 1-based index. */
  readers: { index: number; mask: Uint8Array }[];
  /** Consensus probabilities 0..255, when the map is shown. */
  probability: Uint8Array | null;
  /** Consensus probabilities 0..255, when its outline (>= 0.5) is shown. */
  consensusOutline: Uint8Array | null;
  /** The candidate final label (0/255). */
  candidate: Uint8Array | null;
}

/** True where `mask` is set and a 4-neighbour is not (or is the border). */
function onEdge(mask: Uint8Array, width: number, height: number, i: number, cut: number): boolean {
  if (mask[i] < cut) return false;
  const x = i % width;
  const y = (i - x) / width;
  if (x === 0 || y === 0 || x === width - 1 || y === height - 1) return true;
  return mask[i - 1] < cut || mask[i + 1] < cut || mask[i - width] < cut || mask[i + width] < cut;
}

export function paintLayers(layers: Layers, out: Uint8ClampedArray): void {
  const { width, height } = layers;
  const n = width * height;
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    let r = layers.image ? layers.image[i] : 0;
    let g = r;
    let b = r;
    if (layers.probability && layers.probability[i] > 0) {
      const a = (layers.probability[i] / 255) * 0.6;
      r = r * (1 - a) + 255 * a;
      g = g * (1 - a);
      b = b * (1 - a) + 255 * a;
    }
    for (const reader of layers.readers) {
      if (reader.mask[i] === 0) continue;
      const [cr, cg, cb] = READER_COLOURS[(reader.index - 1) % READER_COLOURS.length];
      const a = 0.4;
      r = r * (1 - a) + cr * a;
      g = g * (1 - a) + cg * a;
      b = b * (1 - a) + cb * a;
    }
    if (layers.consensusOutline && onEdge(layers.consensusOutline, width, height, i, 128)) {
      r = 255;
      g = 240;
      b = 0;
    }
    if (layers.candidate && onEdge(layers.candidate, width, height, i, 1)) {
      r = 255;
      g = 255;
      b = 255;
    }
    out[j] = r;
    out[j + 1] = g;
    out[j + 2] = b;
    out[j + 3] = 255;
  }
}

/** Paints (255) or erases (0) a disc of `radius` pixels into `mask` around (cx, cy). */
export function paintDisc(
  mask: Uint8Array,
  width: number,
  height: number,
  cx: number,
  cy: number,
  radius: number,
  value: 0 | 255,
): void {
  const r2 = radius * radius;
  for (let y = Math.max(0, Math.floor(cy - radius)); y <= Math.min(height - 1, cy + radius); y++) {
    for (let x = Math.max(0, Math.floor(cx - radius)); x <= Math.min(width - 1, cx + radius); x++) {
      if ((x - cx) ** 2 + (y - cy) ** 2 <= r2) mask[y * width + x] = value;
    }
  }
}
