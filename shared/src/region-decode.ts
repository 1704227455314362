/**
 * Decoding only a region of a photo to grayscale: the pixels `decodeGrayscale` would give for that
 * region of the upright image, without turning the whole photo into grayscale (a 10-megapixel
 * upload whose face covers a few percent of it). The region is mapped to the stored (un-rotated)
 * pixels, cut there by sharp before any rotation, and the small result is put upright here, so a
 * photo with an EXIF rotation is never rotated whole either.
 */
import sharp from 'sharp';
import { UndecodableImageError } from './errors';
import type { CropBox, GrayImage, ImageInfo } from './preprocess';

/** A whole-pixel rectangle: left/top inclusive, width/height at least 1. */
export type PixelRect = CropBox;

/**
 * Where upright pixel (x, y) is stored, for EXIF orientation 1-8 of a stored image `storedWidth` x
 * `storedHeight` (the upright image is that size, or transposed for orientations 5-8).
 *
 * @example storedPixel(0, 0, 6, 700, 840) // { x: 0, y: 839 }: rotate-90 photos keep the top-left corner bottom-left
 */
export function storedPixel(
  x: number,
  y: number,
  orientation: number,
  storedWidth: number,
  storedHeight: number,
): { x: number; y: number } {
  const W = storedWidth - 1;
  const H = storedHeight - 1;
  switch (orientation) {
    case 2:
      return { x: W - x, y };
    case 3:
      return { x: W - x, y: H - y };
    case 4:
      return { x, y: H - y };
    case 5:
      return { x: y, y: x };
    case 6:
      return { x: y, y: H - x };
    case 7:
      return { x: W - y, y: H - x };
    case 8:
      return { x: W - y, y: x };
    default:
      return { x, y };
  }
}

/**
 * The stored-pixel rectangle holding an upright rectangle.
 *
 * @example storedRect({ left: 0, top: 0, width: 10, height: 20 }, 6, 700, 840) // { left: 0, top: 830, width: 20, height: 10 }
 */
export function storedRect(
  rect: PixelRect,
  orientation: number,
  storedWidth: number,
  storedHeight: number,
): PixelRect {
  const a = storedPixel(rect.left, rect.top, orientation, storedWidth, storedHeight);
  const b = storedPixel(
    rect.left + rect.width - 1,
    rect.top + rect.height - 1,
    orientation,
    storedWidth,
    storedHeight,
  );
  const left = Math.min(a.x, b.x);
  const top = Math.min(a.y, b.y);
  return { left, top, width: Math.max(a.x, b.x) - left + 1, height: Math.max(a.y, b.y) - top + 1 };
}

/**
 * Puts a stored-orientation grayscale region upright: the pixels sharp's autoOrient gives.
 *
 * @example uprightGray({ width: 2, height: 1, data: Uint8Array.of(1, 2) }, 6) // 1x2: [1, 2] top to bottom
 */
export function uprightGray(stored: GrayImage, orientation: number): GrayImage {
  if (orientation <= 1 || orientation > 8) return stored;
  const swaps = orientation >= 5;
  const width = swaps ? stored.height : stored.width;
  const height = swaps ? stored.width : stored.height;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = storedPixel(x, y, orientation, stored.width, stored.height);
      data[y * width + x] = stored.data[s.y * stored.width + s.x];
    }
  }
  return { width, height, data };
}

/**
 * Decodes `rect` (whole pixels, inside the upright image `info` describes) to upright grayscale:
 * the same values as cutting it out of `decodeGrayscale(bytes)`.
 *
 * @example const face = await decodeGrayRegion(bytes, await probeImage(bytes), { left: 120, top: 80, width: 200, height: 200 });
 * @throws UndecodableImageError when the pixel data is corrupt; RangeError for a rect outside the image.
 */
export async function decodeGrayRegion(
  bytes: Uint8Array,
  info: ImageInfo,
  rect: PixelRect,
): Promise<GrayImage> {
  if (
    rect.left < 0 ||
    rect.top < 0 ||
    rect.width < 1 ||
    rect.height < 1 ||
    rect.left + rect.width > info.width ||
    rect.top + rect.height > info.height ||
    ![rect.left, rect.top, rect.width, rect.height].every(Number.isInteger)
  ) {
    throw new RangeError(
      `region ${JSON.stringify(rect)} is not whole pixels inside ${info.width}x${info.height}`,
    );
  }
  const swaps = info.orientation >= 5 && info.orientation <= 8;
  const storedWidth = swaps ? info.height : info.width;
  const storedHeight = swaps ? info.width : info.height;
  const stored = storedRect(rect, info.orientation, storedWidth, storedHeight);
  try {
    // No autoOrient: the region is cut from the stored pixels, then put upright below.
    const { data, info: out } = await sharp(bytes, { limitInputPixels: storedWidth * storedHeight })
      .extract(stored)
      .grayscale()
      .raw()
      .toBuffer({ resolveWithObject: true });
    let gray = new Uint8Array(data.buffer, data.byteOffset, data.length);
    if (out.channels !== 1) {
      // grayscale() keeps an alpha channel if there is one; keep the first channel only.
      const first = new Uint8Array(out.width * out.height);
      for (let i = 0; i < first.length; i++) first[i] = data[i * out.channels];
      gray = first;
    }
    return uprightGray({ width: out.width, height: out.height, data: gray }, info.orientation);
  } catch (error) {
    throw new UndecodableImageError('the image data is corrupt or truncated', { cause: error });
  }
}
