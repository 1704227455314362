/**
 * The /predict pipeline for one image (DESIGN §2, serving): media type from the bytes, header probe
 * with the pixel limit, upright grayscale decode, face detection on a downscaled copy, a square
 * crop with the model's margin, @fer/shared preprocessing, the version's batching queue, and
 * per-class probabilities. No HTTP here: the route turns the result into JSON.
 */
import {
  decodeGrayscale,
  marginBox,
  normalizePixels,
  probeImage,
  toModelPixels,
  UnsupportedMediaTypeError,
  type CropBox,
  type GrayImage,
  type SupportedFormat,
} from '@fer/shared';
import type { Batcher } from '../batching/batcher';
import type { FaceDetector } from '../faces/face-detector';
import { reportedBox, selectFaces, type FaceBox, type FacesMode } from '../faces/face-boxes';
import type { LoadedVersion } from '../models/model-manager';
import type { ServiceMetrics } from '../metrics';
import type { DecodeGate } from './decode-gate';
import { sniffMediaType, SUPPORTED_MEDIA_TYPES } from './media-type';

export interface PredictOptions {
  faces: FacesMode;
  crop: 'auto' | 'none';
  maxFaces: number;
  maxPixels: number;
  /** performance.now() time after which the answer is useless. */
  deadline: number;
}

export interface FacePrediction {
  box: CropBox;
  /** The detector's confidence; null when the whole image was classified (crop=none). */
  detection_score: number | null;
  label: string;
  probabilities: Record<string, number>;
}

export interface Timings {
  decode: number;
  detect: number;
  preprocess: number;
  queue: number;
  inference: number;
}

export interface PredictResult {
  image: { width: number; height: number; format: SupportedFormat };
  faces: FacePrediction[];
  timings: Timings;
}

export interface PredictDeps {
  detector: FaceDetector;
  batcher: Batcher;
  /** Slots for decoding large images (decode-gate.ts). */
  decodeGate: DecodeGate;
  /** Counts the images reaching each costly stage (limits must stop bad input before them). */
  metrics: Pick<ServiceMetrics, 'predictStages'>;
}

/** Timings are reported to 0.01 ms, detection scores to 4 decimals: more digits are noise. */
const round = (ms: number) => Math.round(ms * 100) / 100;
const SCORE_DECIMALS = 10_000;

/**
 * One probability row as `{ class: p }` and its most likely class, with the model's class names.
 *
 * @example labelRow(new Float32Array([0.1, 0.7, 0.2]), ['a', 'b', 'c']) // { label: 'b', probabilities: { a: 0.1, b: 0.7, c: 0.2 } }
 */
export function labelRow(
  row: Float32Array,
  classes: readonly string[],
): Pick<FacePrediction, 'label' | 'probabilities'> {
  const probabilities: Record<string, number> = {};
  let best = 0;
  classes.forEach((name, i) => {
    probabilities[name] = row[i];
    if (row[i] > row[best]) best = i;
  });
  return { label: classes[best], probabilities };
}

/**
 * Classifies every face in `bytes` (or the whole image with crop=none) with `version`.
 *
 * @example const result = await predictImage(deps, version, bytes, { faces: 'all', crop: 'auto', maxFaces: 32, maxPixels: 4e7, deadline }, signal);
 * @throws UnsupportedMediaTypeError, UndecodableImageError, ImageTooLargeError (from @fer/shared),
 *         OverloadedError, InferenceFailedError, or the signal's reason.
 */
export async function predictImage(
  deps: PredictDeps,
  version: LoadedVersion,
  bytes: Buffer,
  options: PredictOptions,
  signal: AbortSignal,
): Promise<PredictResult> {
  // Every stage checks the request's signal first: a request that timed out or whose client left
  // starts no more work (issue 16).
  signal.throwIfAborted();
  const sniffed = sniffMediaType(bytes);
  if (sniffed.kind === 'unsupported')
    throw new UnsupportedMediaTypeError(sniffed.name, SUPPORTED_MEDIA_TYPES);

  const spec = version.metadata.preprocessing;
  const t0 = performance.now();
  const stage = (name: 'probe' | 'decode' | 'detect' | 'classify') =>
    deps.metrics.predictStages.inc({ stage: name });
  stage('probe');
  const info = await probeImage(bytes, { maxPixels: options.maxPixels });
  const original = { width: info.width, height: info.height };
  signal.throwIfAborted();

  // Everything that decodes the image's pixels holds a decode slot when the image is large
  // (decode-gate.ts): waiting for it is abortable (and counts as decode time), and the slot frees
  // only once the decode has really ended, which nothing can cut short, even for an abandoned request.
  const permit = await deps.decodeGate.acquire(original.width * original.height, signal);
  let decodeMs = 0;
  let detectMs = 0;
  let boxes: (FaceBox | null)[];
  let decoding: Promise<GrayImage> | undefined;
  try {
    stage('decode');
    decoding = decodeGrayscale(bytes, { maxPixels: options.maxPixels }).then((decoded) => {
      decodeMs = performance.now() - t0;
      return decoded;
    });
    if (options.crop === 'none') {
      boxes = [null];
    } else {
      stage('detect');
      const [detection] = await Promise.all([deps.detector.detect(bytes, original, signal), decoding]);
      detectMs = detection.resizeMs + detection.detectMs;
      boxes = selectFaces(detection.faces, options.faces, options.maxFaces);
    }
  } finally {
    await decoding?.catch(() => undefined);
    permit.release();
  }
  const gray = await decoding;
  signal.throwIfAborted();

  const t1 = performance.now();
  const inputs = await Promise.all(
    boxes.map(async (box) =>
      normalizePixels(
        await toModelPixels(gray, spec, box ? marginBox(box, spec.face_margin) : undefined),
        spec,
      ),
    ),
  );
  const preprocessMs = performance.now() - t1;

  let queueMs = 0;
  let inferenceMs = 0;
  let rows: Float32Array[] = [];
  if (inputs.length > 0) {
    stage('classify');
    const result = await deps.batcher.classify(version, inputs, signal, options.deadline);
    rows = result.outputs;
    queueMs = result.waitMs;
    inferenceMs = result.computeMs;
  }
  const wholeImage: CropBox = { left: 0, top: 0, width: original.width, height: original.height };
  return {
    image: { ...original, format: info.format },
    faces: boxes.map((box, i) => ({
      box: reportedBox(box ?? wholeImage, original),
      detection_score: box ? Math.round(box.score * SCORE_DECIMALS) / SCORE_DECIMALS : null,
      ...labelRow(rows[i], version.metadata.classes),
    })),
    timings: {
      decode: round(decodeMs),
      detect: round(detectMs),
      preprocess: round(preprocessMs),
      queue: round(queueMs),
      inference: round(inferenceMs),
    },
  };
}
