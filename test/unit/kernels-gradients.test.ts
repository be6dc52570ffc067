/**
 * The leaner batch-norm / mean gradients registered with the wasm kernels against the closed
 * form of training-mode batch norm, on both wasm and cpu (the registry is global):
 *   dx = gamma * invStd / M * (M * dy - sum(dy) - xhat * sum(dy * xhat)),
 *   dgamma = sum(dy * xhat), dbeta = sum(dy).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadRuntime } from '../../src/core/ml/backends';
import type { Tf } from '../../src/core/ml/tf';

let tf: Tf;

beforeAll(async () => {
  tf = (await loadRuntime('wasm')).tf;
}, 60_000);

function relativeError(actual: tfTypes.Tensor, expected: tfTypes.Tensor): number {
  const a = actual.dataSync();
  const e = expected.dataSync();
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < e.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - e[i]));
    maxRef = Math.max(maxRef, Math.abs(e[i]));
  }
  return maxDiff / maxRef;
}

describe('batch-norm gradient (moments + batchNorm, as tfjs-layers trains)', () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    it(`matches the closed form on ${backend}`, async () => {
      await tf.setBackend(backend);
      const epsilon = 1e-3;
      const errors = tf.tidy(() => {
        const x = tf.randomNormal([3, 5, 6, 4], 0.7, 2);
        const gamma = tf.randomUniform([4], 0.5, 1.5);
        const beta = tf.randomNormal([4]);
        const dy = tf.randomNormal([3, 5, 6, 4]);
        const forward = (xx: tfTypes.Tensor, g: tfTypes.Tensor, b: tfTypes.Tensor) => {
          const { mean, variance } = tf.moments(xx, [0, 1, 2]);
          return tf.batchNorm(xx, mean, variance, b, g, epsilon);
        };
        const [dx, dgamma, dbeta] = tf.grads(forward)([x, gamma, beta], dy);

        const axes = [0, 1, 2];
        const count = 3 * 5 * 6;
        const { mean, variance } = tf.moments(x, axes);
        const invStd = tf.rsqrt(tf.add(variance, epsilon));
        const xhat = tf.mul(tf.sub(x, mean), invStd);
        const sumDy = tf.sum(dy, axes);
        const sumDyXhat = tf.sum(tf.mul(dy, xhat), axes);
        const expectedDx = tf.mul(
          tf.div(tf.mul(gamma, invStd), count),
          tf.sub(tf.sub(tf.mul(dy, count), sumDy), tf.mul(xhat, sumDyXhat)),
        );
        return [
          relativeError(dx, expectedDx),
          relativeError(dgamma, sumDyXhat),
          relativeError(dbeta, sumDy),
        ];
      });
      for (const error of errors) expect(error).toBeLessThan(1e-4);
      await tf.setBackend('wasm');
    });
  }
});
