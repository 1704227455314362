import { defaultPreprocessSpec, normalizePixels } from '@fer/shared';
import { defaultAugment } from '../../src/data/augment';
import { batchRanges, buildBatch } from '../../src/data/batches';
import type { PixelSet } from '../../src/data/pixel-cache';
import { Rng } from '../../src/data/rng';

const SIZE = 16;
const spec = defaultPreprocessSpec(SIZE);

function pixelSet(count: number): PixelSet {
  const pixels = Uint8Array.from({ length: count * SIZE * SIZE }, (_, i) => (i * 7) % 256);
  return { size: SIZE, count, pixels, labels: Int32Array.from({ length: count }, (_, i) => i % 6), ids: [] };
}

describe('buildBatch', () => {
  const set = pixelSet(5);

  it('without augmentation is the shared normalization of the cached pixels, in index order', () => {
    const batch = buildBatch(set, [3, 1], spec);
    const area = SIZE * SIZE;
    expect(batch.n).toBe(2);
    expect(batch.y).toEqual(Int32Array.from([3, 1]));
    expect(batch.x.subarray(0, area * 3)).toEqual(
      normalizePixels(set.pixels.subarray(3 * area, 4 * area), spec),
    );
    expect(batch.x.subarray(area * 3)).toEqual(normalizePixels(set.pixels.subarray(area, 2 * area), spec));
  });

  it('with augmentation is reproducible under the seed and differs from the plain batch', () => {
    const augmented = () =>
      buildBatch(set, [0, 1, 2], spec, { config: defaultAugment(SIZE), rng: Rng.derive(3, 'augment', 1) });
    expect(augmented().x).toEqual(augmented().x);
    expect(augmented().x).not.toEqual(buildBatch(set, [0, 1, 2], spec).x);
  });

  it('refuses pixels of another size than the model input', () => {
    expect(() => buildBatch(set, [0], defaultPreprocessSpec(32))).toThrow(/16 px/);
  });
});

describe('batchRanges', () => {
  it('covers every item once, the last batch partial', () => {
    expect(batchRanges(10, 4)).toEqual([
      [0, 4],
      [4, 8],
      [8, 10],
    ]);
  });
});
