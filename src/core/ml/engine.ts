/**
 * Running a model, whichever engine the ladder loaded: tfjs's predict, or an onnxruntime session
 * of the model's weights. Training, validation, prediction and evaluation all go through this.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import type { Engine, Tf } from './tf';
import { onnxRunner } from './onnx/runtime';
import { predictInBatches, type ModelRunner } from './runner';

export type { ModelRunner };

/** tfjs's predict, in batches. */
export function tfjsRunner(
  tf: Tf,
  model: tfTypes.LayersModel,
  size: number,
  batch = 4,
): ModelRunner {
  return {
    predict: (images) =>
      predictInBatches(images, size, batch, async (input, count) => {
        const probabilities = tf.tidy(() =>
          model.predict(tf.tensor4d(input, [count, size, size, 1]), { batchSize: count }),
        ) as tfTypes.Tensor;
        const data = (await probabilities.data()) as Float32Array;
        probabilities.dispose();
        return data;
      }),
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
