/**
 * Overlap-tile inference (U-Net paper): an image larger than the network's input is mirror-padded,
 * cut into overlapping tiles, each tile predicted, and the tiles blended back with weights that
 * are zero near a tile's edge (where the network sees padding, not image) and ramp up inside.
 */

export interface TileOptions {
  /** The network's input size. */
  size: number;
  /** Overlap between neighbouring tiles in pixels (default size / 4). */
  overlap?: number;
}

export type PredictTiles = (tiles: Float32Array[]) => Promise<Float32Array[]>;

/** Mirror (reflect, edge not repeated) padding of a row-major image. */
export function mirrorPad(
  image: Float32Array,
  width: number,
  height: number,
  pad: { top: number; bottom: number; left: number; right: number },
): { data: Float32Array; width: number; height: number } {
  const outWidth = width + pad.left + pad.right;
  const outHeight = height + pad.top + pad.bottom;
  const data = new Float32Array(outWidth * outHeight);
  const reflect = (value: number, n: number) => {
    if (n === 1) return 0;
    const period = 2 * (n - 1);
    let v = Math.abs(value) % period;
    if (v > n - 1) v = period - v;
    return v;
  };
  for (let y = 0; y < outHeight; y++) {
    const sy = reflect(y - pad.top, height);
    for (let x = 0; x < outWidth; x++) {
      data[y * outWidth + x] = image[sy * width + reflect(x - pad.left, width)];
    }
  }
  return { data, width: outWidth, height: outHeight };
}

/** Blending weight along one axis of a tile: 0 in the outer margin / 2, then a linear ramp. */
export function tileWeights(size: number, margin: number): Float32Array {
  const zero = Math.floor(margin / 2);
  const ramp = Math.max(1, margin - zero);
  const weights = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const fromEdge = Math.min(i, size - 1 - i);
    weights[i] = Math.min(1, Math.max(0, (fromEdge - zero + 1) / ramp));
  }
  return weights;
}

function tileOrigins(length: number, size: number, stride: number): number[] {
  const origins: number[] = [];
  for (let origin = 0; ; origin += stride) {
    if (origin + size >= length) {
      origins.push(Math.max(0, length - size));
      break;
    }
    origins.push(origin);
  }
  return [...new Set(origins)];
}

/**
 * Predicts a width x height image of any size with a network of fixed input size. `predict` gets
 * batches of size x size tiles and returns a probability map per tile.
 */
export async function overlapTile(
  image: Float32Array,
  width: number,
  height: number,
  predict: PredictTiles,
  options: TileOptions,
  batch = 4,
): Promise<Float32Array> {
  const size = options.size;
  const overlap = Math.min(size - 1, options.overlap ?? Math.floor(size / 4));
  const margin = Math.floor(overlap / 2);
  // Pad by the margin, and further up to the input size for images smaller than a tile.
  const padX = Math.max(margin, Math.ceil((size - width) / 2));
  const padY = Math.max(margin, Math.ceil((size - height) / 2));
  const padded = mirrorPad(image, width, height, {
    left: padX,
    right: Math.max(padX, size - width - padX),
    top: padY,
    bottom: Math.max(padY, size - height - padY),
  });
  const stride = size - overlap;
  const xs = tileOrigins(padded.width, size, stride);
  const ys = tileOrigins(padded.height, size, stride);
  const axisWeights = tileWeights(size, margin);
  const sum = new Float32Array(padded.width * padded.height);
  const weightSum = new Float32Array(padded.width * padded.height);
  const origins = ys.flatMap((y) => xs.map((x) => ({ x, y })));
  for (let start = 0; start < origins.length; start += batch) {
    const group = origins.slice(start, start + batch);
    const tiles = group.map(({ x, y }) => {
      const tile = new Float32Array(size * size);
      for (let row = 0; row < size; row++) {
        const from = (y + row) * padded.width + x;
        tile.set(padded.data.subarray(from, from + size), row * size);
      }
      return tile;
    });
    const predictions = await predict(tiles);
    group.forEach(({ x, y }, index) => {
      const prediction = predictions[index];
      // A tile on the padded image's border keeps its outer edge: nothing else covers it.
      const atLeft = x === 0;
      const atRight = x + size >= padded.width;
      const atTop = y === 0;
      const atBottom = y + size >= padded.height;
      for (let row = 0; row < size; row++) {
        const wy = (row < size / 2 ? atTop : atBottom) ? 1 : axisWeights[row];
        if (wy === 0) continue;
        for (let col = 0; col < size; col++) {
          const wx = (col < size / 2 ? atLeft : atRight) ? 1 : axisWeights[col];
          const w = wx * wy;
          if (w === 0) continue;
          const target = (y + row) * padded.width + x + col;
          sum[target] += w * prediction[row * size + col];
          weightSum[target] += w;
        }
      }
    });
  }
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const source = (y + padY) * padded.width + x + padX;
      out[y * width + x] = weightSum[source] > 0 ? sum[source] / weightSum[source] : 0;
    }
  }
  return out;
}
