/**
 * The distillation loss (Hinton et al. 2015): the student's logits against the teacher's
 * probabilities softened at a temperature, mixed with the usual cross-entropy on the hard labels:
 *
 *   loss = (1 - alpha) * CE(labels, logits)            (label smoothing and class weights as usual)
 *        + alpha * tau^2 * mean_i KL(t_i || softmax(z_i / tau))
 *
 * where t_i is the teacher's answer raised to 1/tau and renormalised (distillation-targets.ts).
 * The tau^2 keeps the soft part's gradients on the scale of the hard part's whatever tau is.
 */
import * as tf from '@tensorflow/tfjs';
import { crossEntropy, type LossOptions } from '../train/loss';

export interface DistillationOptions {
  /** The softening temperature tau of the student's logits (the targets come softened alike). */
  temperature: number;
  /** Weight of the soft part, in [0, 1]; 0 is plain training on the hard labels. */
  alpha: number;
}

/**
 * Mean distillation loss of `logits` [n, k] against `labels` [n] and softened teacher targets
 * [n, k]. With gradient accumulation, `softNormalizer` is the full batch's size, as the hard
 * part's `normalizer` is its summed label weights.
 *
 * @example const loss = distillationLoss(logits, labels, targets, { labelSmoothing: 0.1, classWeights: null }, { temperature: 2, alpha: 0.7 });
 */
export function distillationLoss(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  targets: tf.Tensor2D,
  hard: LossOptions,
  distillation: DistillationOptions,
  softNormalizer?: number,
): tf.Scalar {
  return tf.tidy(() => {
    const { temperature: tau, alpha } = distillation;
    const n = softNormalizer ?? logits.shape[0];
    const studentLog = tf.logSoftmax(tf.div(logits, tau));
    // sum t (ln t - ln s): 0 * ln 0 counts as 0.
    const targetLog = tf.log(tf.maximum(targets, 1e-30));
    const kl = tf.div(tf.sum(tf.mul(targets, tf.sub(targetLog, studentLog))), n);
    const soft = tf.mul(kl, alpha * tau * tau);
    if (alpha === 1) return soft as tf.Scalar;
    return tf.add(tf.mul(crossEntropy(logits, labels, hard), 1 - alpha), soft) as tf.Scalar;
  });
}
