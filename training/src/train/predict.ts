/**
 * Batched inference of a TF.js model over cached pixels (no augmentation): the logits or
 * probabilities of every image, as one row-major Float32Array. Used for validation each epoch
 * and for the final test evaluation.
 */
import * as tf from '@tensorflow/tfjs';
import type { PreprocessSpec } from '@fer/shared';
import { batchRanges, buildBatch } from '../data/batches';
import type { PixelSet } from '../data/pixel-cache';

/**
 * Runs `model` (inference mode) over every image of `set`, `batchSize` at a time.
 *
 * @example const logits = await predictSet(logitsModel, validation, spec, 256); // [n * 6]
 */
export async function predictSet(
  model: tf.LayersModel,
  set: PixelSet,
  spec: PreprocessSpec,
  batchSize: number,
): Promise<Float32Array> {
  const outputs = model.outputs[0].shape[1];
  if (typeof outputs !== 'number') throw new Error('the model output must be [batch, classes]');
  const out = new Float32Array(set.count * outputs);
  const indices = Int32Array.from({ length: set.count }, (_, i) => i);
  for (const [start, end] of batchRanges(set.count, batchSize)) {
    const batch = buildBatch(set, indices.subarray(start, end), spec);
    const y = tf.tidy(() => {
      const x = tf.tensor4d(batch.x, [batch.n, set.size, set.size, 3]);
      return model.predict(x) as tf.Tensor;
    });
    out.set(await y.data(), start * outputs);
    y.dispose();
  }
  return out;
}

/**
 * Mean softmax cross-entropy of row-major logits against labels (plain, unweighted: the
 * validation loss curve stays comparable across class-balance settings).
 *
 * @example meanCrossEntropy(Float32Array.from([2, 0]), Int32Array.from([0]), 2) // 0.127
 */
export function meanCrossEntropy(logits: Float32Array, labels: Int32Array, k: number): number {
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, logits[i * k + c]);
    let sum = 0;
    for (let c = 0; c < k; c++) sum += Math.exp(logits[i * k + c] - max);
    total += Math.log(sum) + max - logits[i * k + labels[i]];
  }
  return labels.length > 0 ? total / labels.length : 0;
}
