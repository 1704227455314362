/**
 * What a square-input detector looks at: "views", square regions of the (already downscaled)
 * image, each sampled into one network input. The whole image is one view, padded to a square so
 * faces keep their shape; overlapping tiles at full working resolution are more views, for faces
 * too small to be found once the whole photo is squeezed into 256 pixels. Pure functions: sampling
 * a view into the network's float input and mapping its candidates back to image pixels.
 */
import type { FaceCandidate } from './blazeface-decode';

export interface Size {
  width: number;
  height: number;
}

/** A square region of the image, in its pixels; it may extend past the image (padded). */
export interface View {
  left: number;
  top: number;
  side: number;
}

/**
 * The grey that fills a view where it leaves the image: the middle of the network's [-1, 1] range,
 * so padding reads as a flat, featureless surface rather than a dark edge.
 */
const PAD_RGB = 127.5;

/**
 * The whole image as one view: a square with the image in its top-left corner.
 *
 * @example wholeView({ width: 640, height: 480 }) // { left: 0, top: 0, side: 640 }
 */
export function wholeView(size: Size): View {
  return { left: 0, top: 0, side: Math.max(size.width, size.height) };
}

/** Start positions of `count` windows of `side` spread evenly over `length` (first at 0, last at the end). */
function spread(length: number, side: number, count: number): number[] {
  if (count <= 1) return [Math.max(0, (length - side) / 2)];
  const step = (length - side) / (count - 1);
  return Array.from({ length: count }, (_, i) => Math.round(i * step));
}

/**
 * Square tiles of `side` pixels covering the image, neighbours overlapping by at least `overlap`
 * of a tile (so a face cut by one tile's edge is whole in the next). None when one tile would
 * cover the image: the whole view already sees it at that resolution.
 *
 * @example tileViews({ width: 512, height: 384 }, 256, 0.25) // 3 x 2 tiles
 */
export function tileViews(size: Size, side: number, overlap: number): View[] {
  if (size.width <= side && size.height <= side) return [];
  const stride = side * (1 - overlap);
  const count = (length: number) => (length <= side ? 1 : Math.ceil((length - side) / stride) + 1);
  const xs = spread(size.width, side, count(size.width));
  const ys = spread(size.height, side, count(size.height));
  return ys.flatMap((top) => xs.map((left) => ({ left, top, side })));
}

/**
 * Samples `view` of a packed RGB image into a `inputSize` x `inputSize` NHWC float input scaled to
 * [-1, 1]: each input pixel is the mean of the image pixels its cell covers (box filter; nearest
 * pixel when enlarging), grey where the view leaves the image.
 *
 * @example viewInput(rgb, { width: 320, height: 240 }, wholeView({ width: 320, height: 240 }), 256)
 */
export function viewInput(
  rgb: Uint8Array,
  size: Size,
  view: View,
  inputSize: number,
  out: Float32Array = new Float32Array(inputSize * inputSize * 3),
): Float32Array {
  if (rgb.length !== size.width * size.height * 3) {
    throw new RangeError(`expected ${size.width * size.height * 3} RGB bytes, got ${rgb.length}`);
  }
  const scale = view.side / inputSize;
  // Source column span of each input column, computed once per view.
  const x0 = new Int32Array(inputSize);
  const x1 = new Int32Array(inputSize);
  for (let j = 0; j < inputSize; j++) {
    x0[j] = Math.floor(view.left + j * scale);
    x1[j] = Math.max(x0[j] + 1, Math.floor(view.left + (j + 1) * scale));
  }
  for (let i = 0; i < inputSize; i++) {
    const y0 = Math.floor(view.top + i * scale);
    const y1 = Math.max(y0 + 1, Math.floor(view.top + (i + 1) * scale));
    for (let j = 0; j < inputSize; j++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let n = 0;
      for (let y = y0; y < y1; y++) {
        const inside = y >= 0 && y < size.height;
        for (let x = x0[j]; x < x1[j]; x++) {
          if (inside && x >= 0 && x < size.width) {
            const p = (y * size.width + x) * 3;
            r += rgb[p];
            g += rgb[p + 1];
            b += rgb[p + 2];
          } else {
            r += PAD_RGB;
            g += PAD_RGB;
            b += PAD_RGB;
          }
          n++;
        }
      }
      const o = (i * inputSize + j) * 3;
      const k = 1 / (127.5 * n);
      out[o] = r * k - 1;
      out[o + 1] = g * k - 1;
      out[o + 2] = b * k - 1;
    }
  }
  return out;
}

/**
 * A candidate found in a view's network input, in the image's pixels.
 *
 * @example fromView(candidate, { left: 256, top: 0, side: 256 }, 256) // shifted right by 256
 */
export function fromView(candidate: FaceCandidate, view: View, inputSize: number): FaceCandidate {
  const s = view.side / inputSize;
  return {
    left: view.left + candidate.left * s,
    top: view.top + candidate.top * s,
    width: candidate.width * s,
    height: candidate.height * s,
    score: candidate.score,
    keypoints: candidate.keypoints.map((p) => ({ x: view.left + p.x * s, y: view.top + p.y * s })),
  };
}
