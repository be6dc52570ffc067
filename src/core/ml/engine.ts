/**
 * Running a model, whichever engine the ladder loaded: tfjs's predict, or an onnxruntime session
 * of the model's weights. Training, validation, prediction and evaluation all go through this.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import type { Engine, Tf } from './backends';
import { onnxRunner } from './onnx/runtime';

/** Runs batches of size x size float images (0..1) and returns their probability maps. */
export interface ModelRunner {
  predict(images: Float32Array[]): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

/** tfjs's predict, in batches. */
export function tfjsRunner(
  tf: Tf,
  model: tfTypes.LayersModel,
  size: number,
  batch = 4,
): ModelRunner {
  return {
    async predict(images) {
      const out: Float32Array[] = [];
      for (let start = 0; start < images.length; start += batch) {
        const group = images.slice(start, start + batch);
        const input = new Float32Array(group.length * size * size);
        group.forEach((image, index) => input.set(image, index * size * size));
        const probabilities = tf.tidy(() =>
          model.predict(tf.tensor4d(input, [group.length, size, size, 1]), {
            batchSize: group.length,
          }),
        ) as tfTypes.Tensor;
        const data = (await probabilities.data()) as Float32Array;
        probabilities.dispose();
        for (let index = 0; index < group.length; index++) {
          out.push(data.slice(index * size * size, (index + 1) * size * size));
        }
      }
      return out;
    },
    dispose: async () => {},
  };
}

/** A runner of the model on the engine: onnxruntime when it is loaded, else tfjs. */
export async function createRunner(
  engine: Engine,
  model: tfTypes.LayersModel,
  size: number,
  batch = 4,
): Promise<ModelRunner> {
  if (engine.ort) return onnxRunner(engine.ort, model, size, Math.max(batch, 8));
  return tfjsRunner(engine.tf, model, size, batch);
}
