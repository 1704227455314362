/**
 * Augmentation of training images, on the cached model-sized grayscale bytes before the shared
 * normalization (so the normalization math exists once, in @fer/shared). One affine resampling
 * pass combines the study's random crop with reflect padding and horizontal flip with a small
 * rotation and scale; brightness and contrast jitter follow. Parameters are drawn from a
 * seeded generator, so an epoch's augmentations are reproducible.
 */
import type { Rng } from './rng';

export interface AugmentConfig {
  /** Largest shift in pixels: a random crop of the image padded by reflection on every side. */
  padding: number;
  /** Mirror left-right with probability 1/2. */
  flip: boolean;
  /** Largest rotation in degrees, either way. */
  rotationDeg: number;
  /** Scale factor drawn from [1 - scale, 1 + scale]. */
  scale: number;
  /** Brightness shift drawn from [-brightness, brightness], as a fraction of full range. */
  brightness: number;
  /** Contrast factor around the image mean, drawn from [1 - contrast, 1 + contrast]. */
  contrast: number;
}

/** The transform applied to one image. */
export interface AugmentParams {
  dx: number;
  dy: number;
  flip: boolean;
  angle: number;
  scale: number;
  brightness: number;
  contrast: number;
}

/** No change at all: what validation and test images get. */
export const NO_AUGMENT: AugmentConfig = {
  padding: 0,
  flip: false,
  rotationDeg: 0,
  scale: 0,
  brightness: 0,
  contrast: 0,
};

/**
 * The default augmentation for an input size: the study's 4-pixel reflect-padded crop at 64 px
 * (scaled with the size) and flip, plus small rotation, scale and photometric jitter.
 *
 * @example defaultAugment(64) // { padding: 4, flip: true, rotationDeg: 10, ... }
 */
export function defaultAugment(inputSize: number): AugmentConfig {
  return {
    padding: Math.max(1, Math.round(inputSize / 16)),
    flip: true,
    rotationDeg: 10,
    scale: 0.1,
    brightness: 0.1,
    contrast: 0.2,
  };
}

/** Draws one image's transform. The number of draws is fixed, so streams stay aligned. */
export function sampleAugment(config: AugmentConfig, rng: Rng): AugmentParams {
  const p = config.padding;
  const dx = rng.int(2 * p + 1) - p;
  const dy = rng.int(2 * p + 1) - p;
  const flip = rng.chance(0.5) && config.flip;
  // `+ 0` turns -0 (a negative draw times a zero range) into 0, so "no change" compares equal.
  const angle = (rng.uniform(-1, 1) * config.rotationDeg * Math.PI) / 180 + 0;
  const scale = 1 + rng.uniform(-1, 1) * config.scale;
  const brightness = rng.uniform(-1, 1) * config.brightness + 0;
  const contrast = 1 + rng.uniform(-1, 1) * config.contrast;
  return { dx, dy, flip, angle, scale, brightness, contrast };
}

/** Reflects a coordinate into [0, n - 1] the way reflect padding does (-1 -> 1, n -> n - 2). */
export function reflect(u: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let r = u % period;
  if (r < 0) r += period;
  return r > n - 1 ? period - r : r;
}

/**
 * Applies `params` to a size x size grayscale image, writing into `out`.
 *
 * Output pixel (x, y) samples the source at the point that the flip, the shift and the
 * rotation/scale about the centre map it to; outside the image, reflection; between pixels,
 * bilinear interpolation. A pure shift lands on whole pixels and copies values exactly.
 *
 * @example applyAugment(pixels, 64, sampleAugment(defaultAugment(64), rng), new Uint8Array(64 * 64));
 */
export function applyAugment(
  src: Uint8Array,
  size: number,
  params: AugmentParams,
  out: Uint8Array,
): Uint8Array {
  const n = size;
  const c = (n - 1) / 2;
  const cos = Math.cos(params.angle) / params.scale;
  const sin = Math.sin(params.angle) / params.scale;
  const geometricOnlyShift = params.angle === 0 && params.scale === 1;
  let sum = 0;
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const xs = (params.flip ? n - 1 - x : x) + params.dx - c;
      const ys = y + params.dy - c;
      let v: number;
      if (geometricOnlyShift) {
        v = src[reflect(ys + c, n) * n + reflect(xs + c, n)];
      } else {
        // Inverse rotation by `angle`, inverse scale: where this output pixel comes from.
        const u = reflect(c + cos * xs + sin * ys, n);
        const w = reflect(c - sin * xs + cos * ys, n);
        const x0 = Math.floor(u);
        const y0 = Math.floor(w);
        const x1 = Math.min(x0 + 1, n - 1);
        const y1 = Math.min(y0 + 1, n - 1);
        const fx = u - x0;
        const fy = w - y0;
        const top = src[y0 * n + x0] * (1 - fx) + src[y0 * n + x1] * fx;
        const bottom = src[y1 * n + x0] * (1 - fx) + src[y1 * n + x1] * fx;
        v = top * (1 - fy) + bottom * fy;
      }
      out[y * n + x] = Math.round(v); // stays in 0..255; a Uint8Array store would truncate, not round
      sum += v;
    }
  }
  if (params.brightness !== 0 || params.contrast !== 1) {
    const mean = sum / (n * n);
    const shift = params.brightness * 255;
    for (let i = 0; i < n * n; i++) {
      const v = (out[i] - mean) * params.contrast + mean + shift;
      out[i] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
    }
  }
  return out;
}
