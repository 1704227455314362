/**
 * The corpus the image fuzzer starts from, drawn with sharp at run time (nothing binary is
 * committed): every format and layout the service must handle or refuse cleanly — JPEG (baseline,
 * progressive, CMYK, EXIF-rotated), PNG (8-bit gray, RGB, RGBA, 16-bit, palette, gray+alpha), WebP
 * (lossy, lossless with alpha), extreme shapes (1x1, 10000x1, 1x10000), a FER-sized face crop, a
 * larger picture, headers alone claiming huge or zero sizes, and GIF and TIFF files (refused).
 */
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { faceCrop, pngHeaderClaiming } from '../helpers/images';

export interface BaseImage {
  name: string;
  bytes: Buffer;
  /** The media type a well-behaved client would send it as. */
  mediaType: 'image/jpeg' | 'image/png' | 'image/webp';
}

const solid = (width: number, height: number, channels: 3 | 4 = 3) =>
  sharp({
    create: {
      width,
      height,
      channels,
      background: { r: 200, g: 120, b: 60, alpha: channels === 4 ? 0.4 : 1 },
    },
  });

/** A gradient with some structure, so lossy encoders produce real entropy-coded data. */
function gradient(width: number, height: number): sharp.Sharp {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      pixels[i] = (x * 255) / width;
      pixels[i + 1] = (y * 255) / height;
      pixels[i + 2] = ((x ^ y) & 0x3f) * 4;
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } });
}

/** A JPEG whose SOF header claims `width` x `height` (the scan data is of a small image). */
async function jpegClaiming(width: number, height: number): Promise<Buffer> {
  const bytes = Buffer.from(await gradient(16, 16).jpeg().toBuffer());
  const sof = bytes.indexOf(Buffer.from([0xff, 0xc0]));
  bytes.writeUInt16BE(height, sof + 5);
  bytes.writeUInt16BE(width, sof + 7);
  return bytes;
}

/** A PNG header claiming the size, with a correct IHDR checksum (so only the size is wrong). */
function pngClaiming(width: number, height: number): Buffer {
  const bytes = Buffer.from(pngHeaderClaiming(Math.max(1, width), Math.max(1, height)));
  bytes.writeUInt32BE(width >>> 0, 16);
  bytes.writeUInt32BE(height >>> 0, 20);
  bytes.writeUInt32BE(crc32(bytes.subarray(12, 29)) >>> 0, 29);
  return bytes;
}

/**
 * Builds the corpus (a second or two of sharp work).
 *
 * @example const corpus = await baseImages(); // [{ name: 'jpeg-baseline', bytes, mediaType }, ...]
 */
export async function baseImages(): Promise<BaseImage[]> {
  const jpeg = (name: string, image: Promise<Buffer>) =>
    image.then((bytes) => ({ name, bytes, mediaType: 'image/jpeg' as const }));
  const png = (name: string, image: Promise<Buffer>) =>
    image.then((bytes) => ({ name, bytes, mediaType: 'image/png' as const }));
  const webp = (name: string, image: Promise<Buffer>) =>
    image.then((bytes) => ({ name, bytes, mediaType: 'image/webp' as const }));
  return Promise.all([
    jpeg('face-crop', faceCrop('jpeg')),
    jpeg('jpeg-baseline', gradient(120, 90).jpeg({ quality: 80 }).toBuffer()),
    jpeg(
      'jpeg-progressive',
      gradient(120, 90).jpeg({ progressive: true, chromaSubsampling: '4:4:4' }).toBuffer(),
    ),
    jpeg('jpeg-cmyk', gradient(64, 48).toColourspace('cmyk').jpeg().toBuffer()),
    jpeg('jpeg-exif-rotated', gradient(80, 40).withMetadata({ orientation: 6 }).jpeg().toBuffer()),
    jpeg(
      'jpeg-exif-tags',
      gradient(40, 40)
        .withExif({ IFD0: { Copyright: 'fuzz', ImageDescription: 'x'.repeat(2000) } })
        .jpeg()
        .toBuffer(),
    ),
    jpeg('jpeg-640', gradient(640, 480).jpeg().toBuffer()),
    jpeg('jpeg-claims-65535x65535', jpegClaiming(65535, 65535)),
    jpeg('jpeg-claims-0x0', jpegClaiming(0, 0)),
    png('png-gray', gradient(60, 60).toColourspace('b-w').png().toBuffer()),
    png('png-rgb', gradient(60, 40).png().toBuffer()),
    png('png-rgba', solid(50, 50, 4).png().toBuffer()),
    png('png-16bit', gradient(40, 30).toColourspace('rgb16').png().toBuffer()),
    png('png-palette', gradient(40, 30).png({ palette: true }).toBuffer()),
    png('png-gray-alpha', solid(30, 30, 4).toColourspace('b-w').png().toBuffer()),
    png('png-1x1', solid(1, 1).png().toBuffer()),
    png('png-10000x1', solid(10000, 1).png().toBuffer()),
    png('png-1x10000', solid(1, 10000).png().toBuffer()),
    png('png-claims-100000x100000', Promise.resolve(pngClaiming(100_000, 100_000))),
    png('png-claims-0x0', Promise.resolve(pngClaiming(0, 0))),
    png('png-claims-2^31x1', Promise.resolve(pngClaiming(2 ** 31, 1))),
    webp('webp-lossy', gradient(100, 80).webp({ quality: 70 }).toBuffer()),
    webp('webp-lossless-alpha', solid(40, 40, 4).webp({ lossless: true }).toBuffer()),
    webp('webp-16383x1', solid(16383, 1).webp().toBuffer()),
    // Formats sharp reads but the service refuses (415), sent under an accepted media type.
    png('unsupported-gif', gradient(32, 32).gif().toBuffer()),
    png('unsupported-tiff', gradient(32, 32).tiff().toBuffer()),
  ]);
}
