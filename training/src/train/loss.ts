/**
 * The training loss: softmax cross-entropy on the head's logits with optional class weights and
 * label smoothing, with exactly PyTorch's CrossEntropyLoss(weight, label_smoothing) semantics:
 *
 *   loss = (1 - e) * sum_i w[y_i] * -log p_i[y_i] / sum_i w[y_i]
 *        + (e / K) * sum_i sum_c w[c] * -log p_i[c] / sum_i w[y_i]
 *
 * (with no weights, w = 1: the usual smoothed cross-entropy averaged over the batch).
 */
import * as tf from '@tensorflow/tfjs';

export interface LossOptions {
  /** Share of the target mass spread uniformly over all classes (0 = plain one-hot). */
  labelSmoothing: number;
  /** Weight per class, or null for all ones. */
  classWeights: Float32Array | null;
  /**
   * Divide by this instead of the batch's summed label weights: with gradient accumulation the
   * micro-batches share the full batch's denominator, so their losses add up to the batch loss.
   */
  normalizer?: number;
}

/**
 * Mean (weighted) cross-entropy of `logits` [n, k] against integer `labels` [n].
 *
 * @example const loss = crossEntropy(logits, labels, { labelSmoothing: 0.1, classWeights: null });
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, options: LossOptions): tf.Scalar {
  return tf.tidy(() => {
    const k = logits.shape[1];
    const eps = options.labelSmoothing;
    const classW = options.classWeights ? tf.tensor1d(options.classWeights) : tf.ones([k]);
    const labelsInt = tf.cast(labels, 'int32');
    const negLogP = tf.neg(tf.logSoftmax(logits));
    const sampleW = tf.gather(classW, labelsInt);
    const norm = options.normalizer === undefined ? tf.sum(sampleW) : tf.scalar(options.normalizer);
    const nllPerSample = tf.sum(tf.mul(negLogP, tf.oneHot(labelsInt, k)), 1);
    const nll = tf.div(tf.sum(tf.mul(nllPerSample, sampleW)), norm);
    if (eps === 0) return nll as tf.Scalar;
    const smooth = tf.div(tf.sum(tf.mul(negLogP, classW.reshape([1, k]))), norm);
    return tf.add(tf.mul(nll, 1 - eps), tf.mul(smooth, eps / k)) as tf.Scalar;
  });
}
