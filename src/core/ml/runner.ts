/** What runs a model over images, whichever engine computes it (./engine.ts picks one). */

/** Runs batches of size x size float images (0..1) and returns their probability maps. */
export interface ModelRunner {
  predict(images: Float32Array[]): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

/**
 * Packs images into batches of at most `batch`, runs each through `run` (which gets the packed
 * input and the batch's image count and returns the packed probabilities) and unpacks the maps.
 */
export async function predictInBatches(
  images: Float32Array[],
  size: number,
  batch: number,
  run: (input: Float32Array, count: number) => Promise<Float32Array>,
): Promise<Float32Array[]> {
  const pixels = size * size;
  const out: Float32Array[] = [];
  for (let start = 0; start < images.length; start += batch) {
    const group = images.slice(start, start + batch);
    const input = new Float32Array(group.length * pixels);
    group.forEach((image, index) => input.set(image, index * pixels));
    const data = await run(input, group.length);
    for (let index = 0; index < group.length; index++)
      out.push(data.slice(index * pixels, (index + 1) * pixels));
  }
  return out;
}
