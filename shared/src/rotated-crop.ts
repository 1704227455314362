/**
 * A face crop rotated so the eyes are level ("alignment"): a rectangle of the image, centred on a
 * point and turned by an angle, sampled into an upright grayscale picture that then goes through
 * `toModelPixels` like any crop. Bilinear sampling; outside the image the nearest edge pixel is
 * repeated, as `cropWithEdgePadding` does. Pure function.
 */
import type { GrayImage } from './preprocess';

/** A rectangle of the image turned by `angle` (radians, clockwise in image coordinates) about its centre. */
export interface RotatedRect {
  cx: number;
  cy: number;
  width: number;
  height: number;
  angle: number;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * The pixels of `rect`, `round(width)` x `round(height)`, as if the image were turned by `-angle`
 * about the centre first. `origin` is where `image` sits in the coordinates `rect` uses (a region
 * decoded from a larger photo: it must hold every pixel the rectangle covers that lies inside the
 * photo, plus one for interpolation, and touch the photo's edges wherever the rectangle leaves it).
 *
 * @example rotatedCrop(gray, { cx: 100, cy: 80, width: 64, height: 64, angle: 0.1 })
 */
export function rotatedCrop(
  image: GrayImage,
  rect: RotatedRect,
  origin: { left: number; top: number } = { left: 0, top: 0 },
): GrayImage {
  const width = Math.max(1, Math.round(rect.width));
  const height = Math.max(1, Math.round(rect.height));
  const cos = Math.cos(rect.angle);
  const sin = Math.sin(rect.angle);
  const data = new Uint8Array(width * height);
  const maxX = image.width - 1;
  const maxY = image.height - 1;
  for (let v = 0; v < height; v++) {
    // Offsets of the output pixel's centre from the rectangle's centre.
    const dy = v + 0.5 - height / 2;
    for (let u = 0; u < width; u++) {
      const dx = u + 0.5 - width / 2;
      // Source position in image pixels (pixel centres at integer + 0.5), then relative to `image`.
      const sx = clamp(rect.cx + dx * cos - dy * sin - 0.5 - origin.left, 0, maxX);
      const sy = clamp(rect.cy + dx * sin + dy * cos - 0.5 - origin.top, 0, maxY);
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = Math.min(x0 + 1, maxX);
      const y1 = Math.min(y0 + 1, maxY);
      const fx = sx - x0;
      const fy = sy - y0;
      const top = image.data[y0 * image.width + x0] * (1 - fx) + image.data[y0 * image.width + x1] * fx;
      const bottom = image.data[y1 * image.width + x0] * (1 - fx) + image.data[y1 * image.width + x1] * fx;
      data[v * width + u] = Math.round(top * (1 - fy) + bottom * fy);
    }
  }
  return { width, height, data };
}
