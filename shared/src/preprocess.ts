/**
 * The only place in the project where pixels become model input. Training, evaluation and the
 * service all call these functions, so a face the service crops is normalized exactly like the
 * dataset images the model learned from.
 *
 * Pipeline: bytes -> decode (format allow-list, pixel limit, EXIF orientation, grayscale)
 *   -> optional crop box (edge-replicated where it leaves the image)
 *   -> resize to the dataset's native size (48 px for FER2013) -> resize to the model's input size
 *   -> (v / 255 - mean[c]) / std[c], grayscale replicated to 3 channels, NHWC.
 *
 * Passing every image through the dataset's native resolution makes a sharp 300-px face crop
 * look like the blurry 48-px faces of FER2013 before it reaches the model.
 */
import sharp from 'sharp';
import { z } from 'zod';
import { ImageTooLargeError, UndecodableImageError, UnsupportedMediaTypeError } from './errors';

/** Formats we accept. sharp reads more (SVG, GIF, PDF, TIFF, HEIF...) but we do not serve them. */
export const SUPPORTED_FORMATS = ['jpeg', 'png', 'webp'] as const;
export type SupportedFormat = (typeof SUPPORTED_FORMATS)[number];

/** Decompression-bomb guard used when a caller does not pass its own limit (about 50 megapixels). */
export const DEFAULT_MAX_PIXELS = 50_000_000;

/** The resize kernel is part of the contract: training and serving must use the same one. */
export const RESIZE_KERNEL = 'lanczos3' as const;

/** ImageNet statistics: the backbones start from ImageNet weights, which expect them. */
export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

export const preprocessSpecSchema = z.object({
  /** Side of the square model input, in pixels. */
  input_size: z.number().int().min(8).max(1024),
  /** Native side of the dataset images; every image is resized to it first (FER2013: 48). */
  source_size: z.number().int().min(8).max(1024),
  channels: z.literal(3),
  color: z.literal('grayscale'),
  layout: z.literal('NHWC'),
  mean: z.tuple([z.number(), z.number(), z.number()]),
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
  resize_kernel: z.literal(RESIZE_KERNEL),
  /** Extra border around a detected face box, as a fraction of the box side on each side. */
  face_margin: z.number().min(0).max(1),
});

export type PreprocessSpec = z.infer<typeof preprocessSpecSchema>;

/** The spec a new model gets unless the training job is told otherwise. */
export function defaultPreprocessSpec(inputSize = 64): PreprocessSpec {
  return {
    input_size: inputSize,
    source_size: 48,
    channels: 3,
    color: 'grayscale',
    layout: 'NHWC',
    mean: [...IMAGENET_MEAN],
    std: [...IMAGENET_STD],
    resize_kernel: RESIZE_KERNEL,
    face_margin: 0.1,
  };
}

/** An axis-aligned box in the pixel coordinates of the upright (EXIF-oriented) image. */
export interface CropBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** A decoded, upright, single-channel image. */
export interface GrayImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface DecodeOptions {
  /** Images with more pixels than this are rejected before any pixel is decoded. */
  maxPixels?: number;
}

export interface ImageInfo {
  format: SupportedFormat;
  /** Width and height after EXIF orientation is applied. */
  width: number;
  height: number;
  orientation: number;
}

/**
 * Reads only the header: format, upright size and orientation. Rejects unsupported formats,
 * animations and oversized images without decoding pixels.
 *
 * @example const { width, height } = await probeImage(bytes, { maxPixels: 20e6 });
 */
export async function probeImage(bytes: Uint8Array, options: DecodeOptions = {}): Promise<ImageInfo> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (bytes.length === 0) throw new UndecodableImageError('the body is empty');
  let meta: sharp.Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new UndecodableImageError('the bytes are not a readable image', { cause: error });
  }
  const format = meta.format ?? 'unknown';
  if (!(SUPPORTED_FORMATS as readonly string[]).includes(format)) {
    throw new UnsupportedMediaTypeError(
      format,
      SUPPORTED_FORMATS.map((f) => `image/${f}`),
    );
  }
  const { width, height } = meta;
  if (!width || !height) throw new UndecodableImageError('the image has no size');
  if (width * height > maxPixels) throw new ImageTooLargeError(width, height, maxPixels);
  const orientation = meta.orientation ?? 1;
  const swapsSides = orientation >= 5 && orientation <= 8;
  return {
    format: format as SupportedFormat,
    width: swapsSides ? height : width,
    height: swapsSides ? width : height,
    orientation,
  };
}

/**
 * Decodes image bytes to an upright grayscale image (EXIF orientation applied).
 *
 * @example const gray = await decodeGrayscale(await readFile('face.jpg'));
 * @throws UndecodableImageError, UnsupportedMediaTypeError, ImageTooLargeError
 */
export async function decodeGrayscale(bytes: Uint8Array, options: DecodeOptions = {}): Promise<GrayImage> {
  const info = await probeImage(bytes, options);
  try {
    const { data, info: out } = await sharp(bytes, { limitInputPixels: info.width * info.height })
      .autoOrient()
      .grayscale()
      .raw()
      .toBuffer({ resolveWithObject: true });
    // grayscale() keeps an alpha channel if there is one; keep the first channel only.
    const gray =
      out.channels === 1
        ? new Uint8Array(data.buffer, data.byteOffset, data.length)
        : firstChannel(data, out.channels);
    return { width: out.width, height: out.height, data: gray };
  } catch (error) {
    throw new UndecodableImageError('the image data is corrupt or truncated', { cause: error });
  }
}

function firstChannel(data: Uint8Array, channels: number): Uint8Array {
  const out = new Uint8Array(data.length / channels);
  for (let i = 0; i < out.length; i++) out[i] = data[i * channels];
  return out;
}

/**
 * Cuts `box` (rounded to whole pixels) out of `image`; where the box leaves the image, the
 * nearest edge pixel is repeated, so a face at the border keeps its size and position.
 *
 * @example cropWithEdgePadding(img, { left: -2, top: 0, width: 10, height: 10 })
 */
export function cropWithEdgePadding(image: GrayImage, box: CropBox): GrayImage {
  const left = Math.round(box.left);
  const top = Math.round(box.top);
  const width = Math.max(1, Math.round(box.width));
  const height = Math.max(1, Math.round(box.height));
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const sy = clamp(top + y, 0, image.height - 1);
    const row = sy * image.width;
    for (let x = 0; x < width; x++) {
      out[y * width + x] = image.data[row + clamp(left + x, 0, image.width - 1)];
    }
  }
  return { width, height, data: out };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * The square face box with the model's margin around a detected box, centred on it.
 *
 * @example marginBox({ left: 10, top: 10, width: 20, height: 30 }, 0.1) // 36x36 square around the centre
 */
export function marginBox(box: CropBox, margin: number): CropBox {
  const side = Math.max(box.width, box.height) * (1 + 2 * margin);
  const cx = box.left + box.width / 2;
  const cy = box.top + box.height / 2;
  return { left: cx - side / 2, top: cy - side / 2, width: side, height: side };
}

async function resizeGray(image: GrayImage, size: number): Promise<GrayImage> {
  if (image.width === size && image.height === size) return image;
  const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 1 } })
    .resize(size, size, { kernel: RESIZE_KERNEL, fit: 'fill' })
    .toColourspace('b-w') // sharp would otherwise convert 1-channel output to sRGB
    .raw()
    .toBuffer();
  return { width: size, height: size, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/**
 * The model-sized grayscale pixels of an image (or of a box in it): through the dataset's native
 * size, then to the input size. Training caches these bytes; serving normalizes them at once.
 */
export async function toModelPixels(
  image: GrayImage,
  spec: PreprocessSpec,
  box?: CropBox,
): Promise<Uint8Array> {
  const region = box ? cropWithEdgePadding(image, box) : image;
  const native = await resizeGray(region, spec.source_size);
  return (await resizeGray(native, spec.input_size)).data;
}

/**
 * Normalizes model-sized grayscale pixels into NHWC float32 with 3 identical channels, writing
 * into `out` at `offset` (so a batch can be filled in place).
 *
 * @example normalizePixels(new Uint8Array(64 * 64), spec) // Float32Array(64 * 64 * 3)
 */
export function normalizePixels(
  pixels: Uint8Array,
  spec: PreprocessSpec,
  out: Float32Array = new Float32Array(pixels.length * 3),
  offset = 0,
): Float32Array {
  const expected = spec.input_size * spec.input_size;
  if (pixels.length !== expected) {
    throw new RangeError(
      `expected ${expected} pixels for input size ${spec.input_size}, got ${pixels.length}`,
    );
  }
  if (out.length < offset + expected * 3) throw new RangeError('output buffer too small');
  const [m0, m1, m2] = spec.mean;
  const [s0, s1, s2] = spec.std;
  for (let i = 0; i < expected; i++) {
    const v = pixels[i] / 255;
    const o = offset + i * 3;
    out[o] = (v - m0) / s0;
    out[o + 1] = (v - m1) / s1;
    out[o + 2] = (v - m2) / s2;
  }
  return out;
}

/**
 * Bytes to model input in one call: decode, optional crop box, resize, normalize.
 *
 * @example const input = await preprocessImage(bytes, metadata.preprocessing); // Float32Array(S*S*3)
 */
export async function preprocessImage(
  bytes: Uint8Array,
  spec: PreprocessSpec,
  box?: CropBox,
  options: DecodeOptions = {},
): Promise<Float32Array> {
  const image = await decodeGrayscale(bytes, options);
  return normalizePixels(await toModelPixels(image, spec, box), spec);
}
