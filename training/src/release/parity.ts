/**
 * The check every publisher runs before a version goes out: the exported model.onnx must give the
 * TF.js model's probabilities on real test images.
 */
import type { PreprocessSpec } from '@fer/shared';
import { buildBatch, type Batch } from '../data/batches';
import type { PixelSet } from '../data/pixel-cache';

/** Images compared between a TF.js model and its ONNX export. */
export const PARITY_IMAGES = 64;
/** Largest probability difference accepted between TF.js and onnxruntime (float32, BN folded). */
export const ONNX_PARITY_TOLERANCE = 1e-3;

/**
 * The first {@link PARITY_IMAGES} images of a set (fewer if it is smaller) as one normalized batch.
 *
 * @example const batch = parityBatch(testSet, spec); // rows 0..63 of any per-image output
 */
export function parityBatch(set: PixelSet, spec: PreprocessSpec): Batch {
  const n = Math.min(PARITY_IMAGES, set.count);
  return buildBatch(
    set,
    Int32Array.from({ length: n }, (_, i) => i),
    spec,
  );
}

/**
 * The largest |a[i] - b[i]| over a's length: `a` may be the first rows of `b`'s row-major output.
 *
 * @example maxAbsDiff(onnxOfFirstImages, tfjsOfWholeSet) // 3e-7
 * @throws RangeError when `b` is shorter than `a`.
 */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (b.length < a.length) throw new RangeError(`cannot compare ${a.length} values with ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}
