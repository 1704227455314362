import fc from 'fast-check';
import { batchNormScaleShift, foldIntoKernel, hwioToOihw, samePadding } from '../../src/export/weight-math';

/** float32 rounding of a folded product against the double-precision reference. */
const FOLD_TOLERANCE = 1e-5;

const f32 = (values: number[]): Float32Array => Float32Array.from(values);

describe('batchNormScaleShift', () => {
  it('computes gamma / sqrt(var + eps) and beta - mean * scale', () => {
    const { scale, shift } = batchNormScaleShift({
      gamma: f32([2, 1]),
      beta: f32([1, -1]),
      movingMean: f32([3, 0]),
      movingVariance: f32([3.75, 0]),
      epsilon: 0.25,
    });
    expect(Array.from(scale)).toEqual([1, 2]);
    expect(Array.from(shift)).toEqual([-2, -1]);
  });

  it('uses gamma 1 and beta 0 for layers without scale or center', () => {
    const { scale, shift } = batchNormScaleShift({
      gamma: null,
      beta: null,
      movingMean: f32([1]),
      movingVariance: f32([3]),
      epsilon: 1,
    });
    expect(Array.from(scale)).toEqual([0.5]);
    expect(Array.from(shift)).toEqual([-0.5]);
  });

  it('rejects parameters with different channel counts', () => {
    expect(() =>
      batchNormScaleShift({
        gamma: f32([1, 2]),
        beta: null,
        movingMean: f32([0]),
        movingVariance: f32([1]),
        epsilon: 1e-5,
      }),
    ).toThrow(/gamma has 2 channels, moving mean has 1/);
  });
});

describe('foldIntoKernel', () => {
  it('equals applying batch norm after the linear map, for any weights', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 1000 }),
        (cin, cout, seed) => {
          // A 1x1 conv is a matrix [cin, cout]; check y = (x W + b) * s + t on a random x.
          const rand = mulberry(seed);
          const kernel = Float32Array.from({ length: cin * cout }, rand);
          const bias = Float32Array.from({ length: cout }, rand);
          const x = Array.from({ length: cin }, rand);
          const scale = Float64Array.from({ length: cout }, () => 0.5 + rand());
          const shift = Float64Array.from({ length: cout }, rand);
          const folded = foldIntoKernel(kernel, bias, { scale, shift });
          for (let o = 0; o < cout; o++) {
            let plain = bias[o];
            let fused = folded.bias[o];
            for (let i = 0; i < cin; i++) {
              plain += x[i] * kernel[i * cout + o];
              fused += x[i] * folded.kernel[i * cout + o];
            }
            expect(Math.abs(fused - (plain * scale[o] + shift[o]))).toBeLessThan(FOLD_TOLERANCE);
          }
        },
      ),
    );
  });

  it('treats a missing bias as zero', () => {
    const { bias } = foldIntoKernel(f32([1, 1]), null, {
      scale: Float64Array.of(2, 3),
      shift: Float64Array.of(5, 7),
    });
    expect(Array.from(bias)).toEqual([5, 7]);
  });

  it('rejects a kernel that does not end in the channel count', () => {
    expect(() =>
      foldIntoKernel(f32([1, 2, 3]), null, { scale: Float64Array.of(1, 1), shift: Float64Array.of(0, 0) }),
    ).toThrow(/does not end in 2 output channels/);
  });
});

describe('hwioToOihw', () => {
  it('moves every value to its OIHW position', () => {
    const [kh, kw, cin, cout] = [2, 3, 4, 5];
    const kernel = Float32Array.from({ length: kh * kw * cin * cout }, (_, i) => i);
    const out = hwioToOihw(kernel, [kh, kw, cin, cout]);
    for (let y = 0; y < kh; y++)
      for (let x = 0; x < kw; x++)
        for (let i = 0; i < cin; i++)
          for (let o = 0; o < cout; o++) {
            expect(out[((o * cin + i) * kh + y) * kw + x]).toBe(kernel[((y * kw + x) * cin + i) * cout + o]);
          }
  });

  it('rejects a kernel of the wrong size', () => {
    expect(() => hwioToOihw(new Float32Array(5), [1, 1, 2, 2])).toThrow(/5 values, shape \[1, 1, 2, 2\]/);
  });
});

describe('samePadding', () => {
  it.each([
    // size, kernel, stride, dilation -> [before, after] (TF's rule: odd pixel after)
    [7, 3, 2, 1, [1, 1]],
    [8, 3, 2, 1, [0, 1]],
    [8, 3, 1, 1, [1, 1]],
    [8, 1, 2, 1, [0, 0]],
    [9, 3, 1, 2, [2, 2]],
    [32, 7, 2, 1, [2, 3]],
  ])('size %i kernel %i stride %i dilation %i -> %j', (size, kernel, stride, dilation, expected) => {
    expect(samePadding(size, kernel, stride, dilation)).toEqual(expected);
  });
});

/** A small seeded generator for the property test's numbers in [-1, 1). */
function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}
