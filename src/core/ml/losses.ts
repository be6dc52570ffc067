/**
 * Segmentation losses on [batch, h, w, 1] probability maps (the U-Net ends in a sigmoid):
 * BCE, soft Dice, BCE + soft Dice (default) and pixel-weighted BCE with the paper's border weights.
 * All return a scalar; the training loop differentiates whichever is chosen.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import type { Tf } from './tf';

export const LOSS_NAMES = ['bce', 'dice', 'bce-dice', 'weighted-bce'] as const;
export type LossName = (typeof LOSS_NAMES)[number];

const EPSILON = 1e-6;
/** Smoothing of soft Dice: keeps the ratio defined (and 0 loss) when both masks are empty. */
const DICE_SMOOTH = 1;

/** Mean binary cross-entropy, optionally weighted per pixel (weights are not normalised). */
export function bce(
  tf: Tf,
  target: tfTypes.Tensor,
  predicted: tfTypes.Tensor,
  weights?: tfTypes.Tensor,
): tfTypes.Scalar {
  return tf.tidy<tfTypes.Scalar>(() => {
    const p = tf.clipByValue(predicted, EPSILON, 1 - EPSILON);
    const perPixel = tf.neg(
      tf.add(tf.mul(target, tf.log(p)), tf.mul(tf.sub(1, target), tf.log(tf.sub(1, p)))),
    );
    return tf.mean(weights ? tf.mul(perPixel, weights) : perPixel);
  });
}

/** 1 - (2 sum(y p) + 1) / (sum(y) + sum(p) + 1), over the whole batch. */
export function softDice(
  tf: Tf,
  target: tfTypes.Tensor,
  predicted: tfTypes.Tensor,
): tfTypes.Scalar {
  return tf.tidy<tfTypes.Scalar>(() => {
    const intersection = tf.sum(tf.mul(target, predicted));
    const total = tf.add(tf.sum(target), tf.sum(predicted));
    return tf.sub(
      1,
      tf.div(tf.add(tf.mul(2, intersection), DICE_SMOOTH), tf.add(total, DICE_SMOOTH)),
    );
  });
}

export function computeLoss(
  tf: Tf,
  name: LossName,
  target: tfTypes.Tensor,
  predicted: tfTypes.Tensor,
  weights?: tfTypes.Tensor,
): tfTypes.Scalar {
  switch (name) {
    case 'bce':
      return bce(tf, target, predicted);
    case 'dice':
      return softDice(tf, target, predicted);
    case 'bce-dice':
      return tf.tidy<tfTypes.Scalar>(() =>
        tf.add(bce(tf, target, predicted), softDice(tf, target, predicted)),
      );
    case 'weighted-bce':
      if (!weights) throw new Error('weighted-bce needs a weight map');
      return bce(tf, target, predicted, weights);
  }
}
