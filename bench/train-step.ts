/**
 * The training objective the bench times: BCE + soft Dice, the same loss as the PyTorch peer
 * (bench/torch_peer.py), written here so the bench does not depend on the engine's
 * training job.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import type { Tf } from '../src/core/ml/tf';

export function bceDiceLoss(
  tf: Tf,
  target: tfTypes.Tensor,
  predicted: tfTypes.Tensor,
): tfTypes.Scalar {
  return tf.tidy<tfTypes.Scalar>(() => {
    const eps = 1e-6;
    const clipped = tf.clipByValue(predicted, eps, 1 - eps);
    const bce = tf.neg(
      tf.mean(
        tf.add(
          tf.mul(target, tf.log(clipped)),
          tf.mul(tf.sub(1, target), tf.log(tf.sub(1, clipped))),
        ),
      ),
    );
    const intersection = tf.sum(tf.mul(target, predicted));
    const dice = tf.sub(
      1,
      tf.div(
        tf.add(tf.mul(2, intersection), 1),
        tf.add(tf.add(tf.sum(target), tf.sum(predicted)), 1),
      ),
    );
    return tf.add<tfTypes.Scalar>(bce, dice);
  });
}
