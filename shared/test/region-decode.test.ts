/**
 * decodeGrayRegion gives exactly the pixels of the same region of decodeGrayscale's upright image,
 * for every EXIF orientation, for JPEG, PNG and WebP, and for the shared real photos; the stored /
 * upright coordinate mapping on hand-checked corners.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import {
  cropWithEdgePadding,
  decodeGrayRegion,
  decodeGrayscale,
  probeImage,
  storedPixel,
  storedRect,
  uprightGray,
  type PixelRect,
} from '../src';

const PHOTOS_DIR = path.resolve(__dirname, '../../../shared/photos');
const HAVE_PHOTOS = existsSync(path.join(PHOTOS_DIR, 'SOURCES.txt'));

/** A colourful, non-symmetric RGB picture, so every orientation mistake changes pixels. */
function pattern(width: number, height: number): sharp.Sharp {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      data[o] = (x * 7 + y * 3) % 256;
      data[o + 1] = (x * y) % 251;
      data[o + 2] = (255 - x * 2 + y * 5) % 256;
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } });
}

async function expectSameAsFullDecode(bytes: Buffer, rect: PixelRect): Promise<void> {
  const info = await probeImage(bytes);
  const region = await decodeGrayRegion(bytes, info, rect);
  const whole = cropWithEdgePadding(await decodeGrayscale(bytes), rect);
  expect({ width: region.width, height: region.height }).toEqual({ width: rect.width, height: rect.height });
  expect(Buffer.from(region.data).equals(Buffer.from(whole.data))).toBe(true);
}

describe('stored and upright coordinates', () => {
  test('the upright top-left pixel for each orientation of a 4x3 stored image', () => {
    const corners = [1, 2, 3, 4, 5, 6, 7, 8].map((o) => storedPixel(0, 0, o, 4, 3));
    expect(corners).toEqual([
      { x: 0, y: 0 },
      { x: 3, y: 0 },
      { x: 3, y: 2 },
      { x: 0, y: 2 },
      { x: 0, y: 0 },
      { x: 0, y: 2 },
      { x: 3, y: 2 },
      { x: 3, y: 0 },
    ]);
  });

  test('a rectangle maps to the stored rectangle holding it', () => {
    expect(storedRect({ left: 0, top: 0, width: 10, height: 20 }, 6, 700, 840)).toEqual({
      left: 0,
      top: 830,
      width: 20,
      height: 10,
    });
  });

  test('uprightGray turns a 2x1 stored image for orientation 6 into 1x2', () => {
    const upright = uprightGray({ width: 2, height: 1, data: Uint8Array.of(1, 2) }, 6);
    expect(upright).toEqual({ width: 1, height: 2, data: Uint8Array.of(1, 2) });
  });
});

describe('decodeGrayRegion', () => {
  test.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'equals the full decode for EXIF orientation %i',
    async (orientation) => {
      const bytes = await pattern(37, 23).jpeg({ quality: 95 }).withMetadata({ orientation }).toBuffer();
      const info = await probeImage(bytes);
      expect(info.orientation).toBe(orientation);
      await expectSameAsFullDecode(bytes, { left: 3, top: 5, width: 11, height: 9 });
      await expectSameAsFullDecode(bytes, { left: 0, top: 0, width: info.width, height: info.height });
    },
  );

  test.each(['png', 'webp'] as const)('equals the full decode for %s', async (format) => {
    const bytes = await pattern(40, 30).toFormat(format).toBuffer();
    await expectSameAsFullDecode(bytes, { left: 10, top: 4, width: 20, height: 17 });
  });

  test('keeps the first channel of an image with alpha', async () => {
    const bytes = await pattern(20, 20).ensureAlpha(0.5).png().toBuffer();
    await expectSameAsFullDecode(bytes, { left: 2, top: 2, width: 10, height: 10 });
  });

  test('refuses a region outside the image or of fractional pixels', async () => {
    const bytes = await pattern(20, 10).png().toBuffer();
    const info = await probeImage(bytes);
    await expect(decodeGrayRegion(bytes, info, { left: 15, top: 0, width: 10, height: 5 })).rejects.toThrow(
      RangeError,
    );
    await expect(decodeGrayRegion(bytes, info, { left: 1.5, top: 0, width: 2, height: 2 })).rejects.toThrow(
      RangeError,
    );
  });

  (HAVE_PHOTOS ? test : test.skip)(
    `equals the full decode on real photos, EXIF-rotated ones included${HAVE_PHOTOS ? '' : ` (skipped: ${PHOTOS_DIR} is absent)`}`,
    async () => {
      for (const name of [
        'curie_photo.6.embedded.jpg',
        'curie_photo.3.embedded.jpg',
        'deepface_couple.jpg',
      ]) {
        const bytes = await readFile(path.join(PHOTOS_DIR, name));
        const info = await probeImage(bytes);
        const rect = {
          left: Math.floor(info.width * 0.3),
          top: Math.floor(info.height * 0.2),
          width: Math.floor(info.width * 0.25),
          height: Math.floor(info.height * 0.3),
        };
        await expectSameAsFullDecode(bytes, rect);
      }
    },
  );
});
