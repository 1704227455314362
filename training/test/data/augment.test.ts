import {
  applyAugment,
  defaultAugment,
  NO_AUGMENT,
  reflect,
  sampleAugment,
  type AugmentParams,
} from '../../src/data/augment';
import { Rng } from '../../src/data/rng';

const N = 8;
const IDENTITY: AugmentParams = { dx: 0, dy: 0, flip: false, angle: 0, scale: 1, brightness: 0, contrast: 1 };

/** An image whose pixel (x, y) is 10 * y + x: every value tells where it came from. */
function coordinates(): Uint8Array {
  return Uint8Array.from({ length: N * N }, (_, i) => 10 * Math.floor(i / N) + (i % N));
}

/** Reference: reflect-pad by p, then crop at (p + dx, p + dy), like torchvision's RandomCrop(padding_mode='reflect'). */
function padAndCrop(src: Uint8Array, dx: number, dy: number, p: number): Uint8Array {
  const side = N + 2 * p;
  const padded = new Uint8Array(side * side);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) padded[y * side + x] = src[reflect(y - p, N) * N + reflect(x - p, N)];
  }
  const out = new Uint8Array(N * N);
  for (let y = 0; y < N; y++)
    for (let x = 0; x < N; x++) out[y * N + x] = padded[(y + p + dy) * side + (x + p + dx)];
  return out;
}

describe('reflect', () => {
  it('mirrors without repeating the edge, like reflect padding', () => {
    expect([-2, -1, 0, 7, 8, 9].map((u) => reflect(u, 8))).toEqual([2, 1, 0, 7, 6, 5]);
    expect(reflect(0.5, 1)).toBe(0);
  });
});

describe('applyAugment', () => {
  const src = coordinates();

  it('leaves the image unchanged with identity parameters', () => {
    expect(applyAugment(src, N, IDENTITY, new Uint8Array(N * N))).toEqual(src);
  });

  it('is exactly a reflect-padded random crop for a pure shift', () => {
    for (const [dx, dy] of [
      [2, -1],
      [-3, 3],
      [0, 2],
    ]) {
      const out = applyAugment(src, N, { ...IDENTITY, dx, dy }, new Uint8Array(N * N));
      expect(out).toEqual(padAndCrop(src, dx, dy, 3));
    }
  });

  it('mirrors left-right', () => {
    const out = applyAugment(src, N, { ...IDENTITY, flip: true }, new Uint8Array(N * N));
    for (let y = 0; y < N; y++)
      for (let x = 0; x < N; x++) expect(out[y * N + x]).toBe(src[y * N + (N - 1 - x)]);
  });

  it('rotates a quarter turn onto the transposed-and-mirrored grid', () => {
    const out = applyAugment(src, N, { ...IDENTITY, angle: Math.PI / 2 }, new Uint8Array(N * N));
    // Output (x, y) samples the source at (c + (y - c), c - (x - c)) = (y, N - 1 - x).
    for (let y = 0; y < N; y++)
      for (let x = 0; x < N; x++) expect(out[y * N + x]).toBe(src[(N - 1 - x) * N + y]);
  });

  it('shifts brightness and clamps to 0..255', () => {
    const flat = new Uint8Array(N * N).fill(200);
    const out = applyAugment(flat, N, { ...IDENTITY, brightness: 0.5 }, new Uint8Array(N * N));
    expect([...out].every((v) => v === 255)).toBe(true);
  });

  it('stretches contrast around the mean', () => {
    const two = Uint8Array.from({ length: N * N }, (_, i) => (i % 2 === 0 ? 100 : 140));
    const out = applyAugment(two, N, { ...IDENTITY, contrast: 2 }, new Uint8Array(N * N));
    expect(out[0]).toBe(80);
    expect(out[1]).toBe(160);
  });
});

describe('sampleAugment', () => {
  it('is deterministic under the seed and within the configured ranges', () => {
    const config = defaultAugment(64);
    const a = Array.from({ length: 20 }, (_, i) => i).map(() => 0);
    const r1 = Rng.derive(5, 'augment', 1);
    const r2 = Rng.derive(5, 'augment', 1);
    for (const _ of a) {
      const p = sampleAugment(config, r1);
      expect(sampleAugment(config, r2)).toEqual(p);
      expect(Math.abs(p.dx)).toBeLessThanOrEqual(config.padding);
      expect(Math.abs(p.angle)).toBeLessThanOrEqual((config.rotationDeg * Math.PI) / 180);
      expect(Math.abs(p.scale - 1)).toBeLessThanOrEqual(config.scale);
    }
  });

  it('draws the identity for NO_AUGMENT', () => {
    const p = sampleAugment(NO_AUGMENT, Rng.derive(1));
    expect(p).toEqual({ ...IDENTITY, dx: 0, dy: 0 });
  });
});
