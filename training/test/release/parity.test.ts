import { defaultPreprocessSpec } from '@fer/shared';
import { maxAbsDiff, PARITY_IMAGES, parityBatch } from '../../src/release/parity';

describe('maxAbsDiff', () => {
  it('compares a with the first rows of b', () => {
    expect(maxAbsDiff([0.1, 0.5], [0.1, 0.25, 9])).toBeCloseTo(0.25, 10);
    expect(maxAbsDiff([], [1])).toBe(0);
    expect(() => maxAbsDiff([1, 2], [1])).toThrow(RangeError);
  });
});

describe('parityBatch', () => {
  const spec = defaultPreprocessSpec(4);
  const setOf = (count: number) => ({
    size: 4,
    count,
    pixels: Uint8Array.from({ length: count * 16 }, (_, i) => i % 251),
    labels: Int32Array.from({ length: count }, (_, i) => i % 6),
    ids: Array.from({ length: count }, (_, i) => `img${i}`),
  });

  it('takes the first PARITY_IMAGES images, or all of a smaller set', () => {
    const large = parityBatch(setOf(PARITY_IMAGES + 5), spec);
    expect(large.n).toBe(PARITY_IMAGES);
    expect(Array.from(large.y.subarray(0, 7))).toEqual([0, 1, 2, 3, 4, 5, 0]);
    expect(parityBatch(setOf(3), spec).n).toBe(3);
    expect(parityBatch(setOf(3), spec).x).toHaveLength(3 * 16 * 3);
  });
});
