import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import {
  cropWithEdgePadding,
  decodeGrayscale,
  defaultPreprocessSpec,
  ImageTooLargeError,
  marginBox,
  normalizePixels,
  preprocessImage,
  probeImage,
  toModelPixels,
  UndecodableImageError,
  UnsupportedMediaTypeError,
  type PreprocessSpec,
} from '../src';

const FLOAT_TOLERANCE = 1e-6;

/** A 1-channel image whose pixel at (x, y) is f(x, y). */
function grayPixels(width: number, height: number, f: (x: number, y: number) => number): Buffer {
  const data = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = f(x, y);
  return data;
}

function rawGray(width: number, height: number, f: (x: number, y: number) => number): sharp.Sharp {
  return sharp(grayPixels(width, height, f), { raw: { width, height, channels: 1 } });
}

/** Spec whose sizes equal the image size, so no resampling happens and values are exact. */
function identitySpec(size: number): PreprocessSpec {
  return { ...defaultPreprocessSpec(size), source_size: size };
}

/** A PNG that only has a header claiming the given size (a decompression-bomb shape). */
function pngHeaderOnly(width: number, height: number): Buffer {
  const chunk = (type: string, body: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    const typed = Buffer.concat([Buffer.from(type, 'ascii'), body]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typed));
    return Buffer.concat([len, typed, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grayscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(16))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('normalizePixels', () => {
  it('computes (v/255 - mean) / std per channel on a known gradient', () => {
    const spec = identitySpec(4);
    const pixels = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
    const out = normalizePixels(pixels, spec);
    expect(out).toHaveLength(48);
    for (let i = 0; i < 16; i++) {
      for (let c = 0; c < 3; c++) {
        expect(out[i * 3 + c]).toBeCloseTo((pixels[i] / 255 - spec.mean[c]) / spec.std[c], 6);
      }
    }
  });

  it('fills a batch buffer in place at an offset', () => {
    const spec = identitySpec(2);
    const batch = new Float32Array(2 * 2 * 2 * 3).fill(99);
    normalizePixels(new Uint8Array([0, 0, 0, 0]), spec, batch, 12);
    expect(batch.slice(0, 12).every((v) => v === 99)).toBe(true);
    expect(batch[12]).toBeCloseTo(-spec.mean[0] / spec.std[0], 6);
  });

  it('rejects pixels of the wrong size', () => {
    expect(() => normalizePixels(new Uint8Array(10), identitySpec(4))).toThrow(/expected 16 pixels/);
  });
});

describe('preprocessImage', () => {
  it('gives exact values for a lossless gradient at the model size', async () => {
    const spec = identitySpec(48);
    const f = (x: number, y: number) => (x * 5 + y) % 256;
    const png = await rawGray(48, 48, f).png().toBuffer();
    const out = await preprocessImage(png, spec);
    expect(out).toHaveLength(48 * 48 * 3);
    let maxDiff = 0;
    for (let y = 0; y < 48; y++) {
      for (let x = 0; x < 48; x++) {
        for (let c = 0; c < 3; c++) {
          const expected = (f(x, y) / 255 - spec.mean[c]) / spec.std[c];
          maxDiff = Math.max(maxDiff, Math.abs(out[(y * 48 + x) * 3 + c] - expected));
        }
      }
    }
    expect(maxDiff).toBeLessThan(FLOAT_TOLERANCE);
  });

  it('resizes through the native size to the input size and keeps flat areas flat', async () => {
    const spec = defaultPreprocessSpec(64);
    const png = await rawGray(300, 200, () => 128)
      .png()
      .toBuffer();
    const out = await preprocessImage(png, spec);
    expect(out).toHaveLength(64 * 64 * 3);
    const expected = (128 / 255 - spec.mean[0]) / spec.std[0];
    for (let i = 0; i < out.length; i += 3) expect(Math.abs(out[i] - expected)).toBeLessThan(FLOAT_TOLERANCE);
  });

  it('keeps a left-to-right gradient increasing after resizing', async () => {
    const png = await rawGray(200, 200, (x) => Math.round((x * 255) / 199))
      .png()
      .toBuffer();
    const pixels = await toModelPixels(await decodeGrayscale(png), defaultPreprocessSpec(64));
    const row = Array.from(pixels.slice(32 * 64, 33 * 64));
    expect(row[0]).toBeLessThan(10);
    expect(row[63]).toBeGreaterThan(245);
    for (let x = 1; x < 64; x++) expect(row[x]).toBeGreaterThanOrEqual(row[x - 1] - 1);
  });

  it.each([
    ['png', (s: sharp.Sharp) => s.png()],
    ['webp', (s: sharp.Sharp) => s.webp({ lossless: true })],
    ['jpeg', (s: sharp.Sharp) => s.jpeg({ quality: 100 })],
  ])('decodes a grayscale %s', async (_format, encode) => {
    const f = (x: number, y: number) => (x < 16 ? 40 : 200) + (y < 16 ? 0 : 10);
    const bytes = await encode(rawGray(32, 32, f)).toBuffer();
    const image = await decodeGrayscale(bytes);
    expect([image.width, image.height]).toEqual([32, 32]);
    // JPEG is lossy: allow a few levels of ringing away from the block edges.
    for (const [x, y] of [
      [4, 4],
      [28, 4],
      [4, 28],
      [28, 28],
    ]) {
      expect(Math.abs(image.data[y * 32 + x] - f(x, y))).toBeLessThanOrEqual(3);
    }
  });

  it('turns colour and alpha into one gray channel', async () => {
    const rgba = Buffer.alloc(8 * 8 * 4);
    for (let i = 0; i < 64; i++) rgba.set([90, 90, 90, i % 2 ? 255 : 0], i * 4);
    const png = await sharp(rgba, { raw: { width: 8, height: 8, channels: 4 } })
      .png()
      .toBuffer();
    const image = await decodeGrayscale(png);
    expect(image.data).toHaveLength(64);
    expect(Array.from(new Set(image.data))).toEqual([90]);
  });
});

describe('EXIF orientation', () => {
  // Upright test card: 40 wide, 24 high, white block in the top-left corner only.
  const uprightWidth = 40;
  const uprightHeight = 24;
  const bright = (x: number, y: number) => x < 12 && y < 8;

  /** Stores the card so that applying `orientation` shows it upright. */
  async function orientedJpeg(orientation: number): Promise<Buffer> {
    const storedRotation: Record<number, number> = { 1: 0, 3: 180, 6: 270, 8: 90 };
    const upright = rawGray(uprightWidth, uprightHeight, (x, y) => (bright(x, y) ? 255 : 0));
    const stored = await upright.rotate(storedRotation[orientation]).png().toBuffer();
    return sharp(stored).jpeg({ quality: 95 }).withMetadata({ orientation }).toBuffer();
  }

  it.each([1, 3, 6, 8])('orientation %i decodes upright', async (orientation) => {
    const jpeg = await orientedJpeg(orientation);
    expect((await probeImage(jpeg)).orientation).toBe(orientation);
    const image = await decodeGrayscale(jpeg);
    expect([image.width, image.height]).toEqual([uprightWidth, uprightHeight]);
    let wrong = 0;
    for (let y = 0; y < uprightHeight; y++) {
      for (let x = 0; x < uprightWidth; x++) {
        const v = image.data[y * uprightWidth + x];
        if (bright(x, y) ? v < 128 : v >= 128) wrong++;
      }
    }
    expect(wrong).toBe(0);
  });
});

describe('bad input', () => {
  it('reports a zero-byte body as undecodable', async () => {
    await expect(decodeGrayscale(new Uint8Array(0))).rejects.toBeInstanceOf(UndecodableImageError);
  });

  it('reports random bytes as undecodable', async () => {
    await expect(decodeGrayscale(Buffer.from('definitely not an image'))).rejects.toBeInstanceOf(
      UndecodableImageError,
    );
  });

  it('reports a truncated JPEG as undecodable', async () => {
    const jpeg = await rawGray(64, 64, (x, y) => (x * y) % 256)
      .jpeg()
      .toBuffer();
    const truncated = jpeg.subarray(0, Math.floor(jpeg.length / 2));
    await expect(decodeGrayscale(truncated)).rejects.toBeInstanceOf(UndecodableImageError);
  });

  it('rejects a 20000x20000 header before decoding any pixel', async () => {
    const bomb = pngHeaderOnly(20000, 20000);
    const error = await decodeGrayscale(bomb).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageTooLargeError);
    expect((error as ImageTooLargeError).message).toMatch(/20000x20000/);
  });

  it('honours a caller-supplied pixel limit', async () => {
    const png = await rawGray(100, 100, () => 0)
      .png()
      .toBuffer();
    await expect(decodeGrayscale(png, { maxPixels: 9999 })).rejects.toBeInstanceOf(ImageTooLargeError);
    await expect(decodeGrayscale(png, { maxPixels: 10000 })).resolves.toMatchObject({ width: 100 });
  });

  it('rejects formats sharp reads but we do not serve', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
    );
    const gif = await rawGray(8, 8, () => 0)
      .gif()
      .toBuffer();
    const tiff = await rawGray(8, 8, () => 0)
      .tiff()
      .toBuffer();
    for (const bytes of [svg, gif, tiff]) {
      await expect(decodeGrayscale(bytes)).rejects.toBeInstanceOf(UnsupportedMediaTypeError);
    }
  });
});

describe('crop geometry', () => {
  const image = { width: 4, height: 3, data: Uint8Array.from({ length: 12 }, (_, i) => i) };

  it('cuts a box inside the image', () => {
    const crop = cropWithEdgePadding(image, { left: 1, top: 1, width: 2, height: 2 });
    expect(Array.from(crop.data)).toEqual([5, 6, 9, 10]);
  });

  it('repeats edge pixels where the box leaves the image', () => {
    const crop = cropWithEdgePadding(image, { left: -1, top: -1, width: 3, height: 2 });
    expect(Array.from(crop.data)).toEqual([0, 0, 1, 0, 0, 1]);
  });

  it('makes a centred square with the margin on each side', () => {
    expect(marginBox({ left: 10, top: 20, width: 20, height: 40 }, 0.25)).toEqual({
      left: -10,
      top: 10,
      width: 60,
      height: 60,
    });
  });
});
