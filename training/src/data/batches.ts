/**
 * Assembles model input batches from cached pixels: optional augmentation, then the shared
 * normalization written straight into the batch buffer (NHWC float32, 3 channels).
 */
import { normalizePixels, type PreprocessSpec } from '@fer/shared';
import { applyAugment, sampleAugment, type AugmentConfig } from './augment';
import { imageAt, type PixelSet } from './pixel-cache';
import type { Rng } from './rng';

export interface Batch {
  /** [n, size, size, 3] NHWC, normalized. */
  x: Float32Array;
  /** Class index per image. */
  y: Int32Array;
  n: number;
}

export interface BatchAugmentation {
  config: AugmentConfig;
  rng: Rng;
}

/**
 * The batch of `set`'s images at `indices`, augmented when `augmentation` is given.
 *
 * @example const batch = buildBatch(train, order.subarray(0, 128), spec, { config, rng });
 */
export function buildBatch(
  set: PixelSet,
  indices: ArrayLike<number>,
  spec: PreprocessSpec,
  augmentation?: BatchAugmentation,
): Batch {
  if (spec.input_size !== set.size) {
    throw new RangeError(`pixels are ${set.size} px but the model takes ${spec.input_size} px`);
  }
  const n = indices.length;
  const area = set.size * set.size;
  const x = new Float32Array(n * area * 3);
  const y = new Int32Array(n);
  const scratch = new Uint8Array(area);
  for (let k = 0; k < n; k++) {
    const index = indices[k];
    const source = imageAt(set, index);
    const pixels = augmentation
      ? applyAugment(source, set.size, sampleAugment(augmentation.config, augmentation.rng), scratch)
      : source;
    normalizePixels(pixels, spec, x, k * area * 3);
    y[k] = set.labels[index];
  }
  return { x, y, n };
}

/** Consecutive ranges [start, end) that cut `total` items into batches of `batchSize`. */
export function batchRanges(total: number, batchSize: number): [number, number][] {
  const ranges: [number, number][] = [];
  for (let start = 0; start < total; start += batchSize)
    ranges.push([start, Math.min(total, start + batchSize)]);
  return ranges;
}
