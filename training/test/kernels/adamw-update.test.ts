/**
 * The fused wasm AdamW update and sum of squares against the same math op by op on the cpu
 * backend (which training/test/train/adamw.test.ts checks against torch).
 */
import * as tf from '@tensorflow/tfjs';

import { selectTrainingBackend } from '../../src/backend';
import { adamwUpdate, type AdamWStep, sumOfSquares } from '../../src/kernels';

/** Same float32 operations in the same order; only the last bit may differ (double rounding on cpu). */
const RELATIVE_TOLERANCE = 1e-6;
/** Sums of ~1000 squares in a different order. */
const SUM_TOLERANCE = 1e-5;

const STEPS: [string, AdamWStep][] = [
  [
    'first step, no decay, no clipping',
    { lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, step: 1, gradScale: 1 },
  ],
  [
    'later step with decay and clipping',
    { lr: 3e-2, beta1: 0.85, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.01, step: 7, gradScale: 0.4 },
  ],
];

async function update(backend: string, size: number, step: AdamWStep): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const [param, grad, m] = [1, 2, 3].map((seed) => tf.randomNormal([size], 0, 1, 'float32', seed));
    const v = tf.abs(tf.randomNormal([size], 0, 1, 'float32', 4));
    return adamwUpdate(param!, grad!, m!, v, step).map((t) => t.dataSync() as Float32Array);
  });
}

function relativeError(actual: Float32Array, expected: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.max(Math.abs(expected[i]!), 1e-30));
  }
  return worst;
}

beforeAll(async () => {
  await selectTrainingBackend('wasm');
});

describe('adamwUpdate', () => {
  it.each(STEPS)('%s: fused wasm pass equals the op-by-op update', async (_name, step) => {
    // 1031 elements: whole SIMD vectors and a scalar tail.
    const wasm = await update('wasm', 1031, step);
    const cpu = await update('cpu', 1031, step);
    ['param', 'm', 'v'].forEach((_label, i) =>
      expect(relativeError(wasm[i]!, cpu[i]!)).toBeLessThan(RELATIVE_TOLERANCE),
    );
  });
});

describe('sumOfSquares', () => {
  it.each([1, 4, 1031])('matches Σx² for %i elements', async (size) => {
    const values = Array.from({ length: size }, (_, i) => Math.sin(i + 1));
    await tf.setBackend('wasm');
    const x = tf.tensor1d(values);
    const fused = sumOfSquares(x);
    const expected = values.reduce((sum, value) => sum + Math.fround(value) ** 2, 0);
    expect(Math.abs(fused.dataSync()[0]! - expected) / expected).toBeLessThan(SUM_TOLERANCE);
    tf.dispose([x, fused]);
  });
});
