/**
 * The /predict pipeline for one image (DESIGN §2, serving), one function per stage: media type
 * from the bytes, header probe with the pixel limit, face detection on a copy decoded at the
 * detector's size (shrink-on-load), model inputs cut from the original around the chosen faces
 * only (or the whole image with crop=none) through @fer/shared preprocessing, the version's
 * batching queue, and per-class probabilities. No HTTP here: the route turns the result into JSON.
 */
import {
  decodeGrayscale,
  normalizePixels,
  probeImage,
  toModelPixels,
  UnsupportedMediaTypeError,
  type CropBox,
  type ImageInfo,
  type SupportedFormat,
} from '@fer/shared';
import type { Batcher } from '../batching/batcher';
import type { Point } from '../faces/blazeface-decode';
import { marginGeometry } from '../faces/crop-geometry';
import type { FaceDetector } from '../faces/face-detector';
import { reportedBox, selectFaces, type FaceBox, type FacesMode } from '../faces/face-boxes';
import type { LoadedVersion } from '../models/model-manager';
import type { ServiceMetrics } from '../metrics';
import type { DecodeGate } from './decode-gate';
import { faceInputs, type FaceInputs } from './face-crops';
import { sniffMediaType, SUPPORTED_MEDIA_TYPES } from './media-type';

export interface PredictOptions {
  faces: FacesMode;
  crop: 'auto' | 'none';
  /** Turn each face crop so the eyes are level; default: the detector's fitted crop geometry. */
  align?: boolean;
  maxFaces: number;
  maxPixels: number;
  /** performance.now() time after which the answer is useless. */
  deadline: number;
}

export interface FacePrediction {
  box: CropBox;
  /** The detector's confidence; null when the whole image was classified (crop=none). */
  detection_score: number | null;
  /** Named points in upright image pixels ({} when the detector gives none; null with crop=none). */
  landmarks: Record<string, Point> | null;
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

type Stage = 'probe' | 'decode' | 'detect' | 'classify';

/** Timings are reported to 0.01 ms, scores to 4 decimals, landmarks to 0.1 px: more digits are noise. */
const round = (ms: number) => Math.round(ms * 100) / 100;
const SCORE_DECIMALS = 10_000;
const roundPoint = (p: Point): Point => ({ x: Math.round(p.x * 10) / 10, y: Math.round(p.y * 10) / 10 });

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

/** Stage 1: the header, after the bytes' own media type; rejects what we do not serve. */
async function probe(bytes: Buffer, maxPixels: number): Promise<ImageInfo> {
  const sniffed = sniffMediaType(bytes);
  if (sniffed.kind === 'unsupported')
    throw new UnsupportedMediaTypeError(sniffed.name, SUPPORTED_MEDIA_TYPES);
  return probeImage(bytes, { maxPixels });
}

/** Stage 2: the faces the request gets (largest first), found on a reduced copy. */
async function locateFaces(
  deps: PredictDeps,
  bytes: Buffer,
  info: ImageInfo,
  options: PredictOptions,
  signal: AbortSignal,
): Promise<{ faces: FaceBox[]; ms: number }> {
  const detection = await deps.detector.detect(bytes, info, signal);
  return {
    faces: selectFaces(detection.faces, options.faces, options.maxFaces),
    ms: detection.resizeMs + detection.detectMs,
  };
}

/** Stage 3: normalized model inputs, one per face (or one for the whole image when `faces` is null). */
async function prepareInputs(
  deps: PredictDeps,
  version: LoadedVersion,
  bytes: Buffer,
  info: ImageInfo,
  faces: readonly FaceBox[] | null,
  options: PredictOptions,
): Promise<FaceInputs> {
  const spec = version.metadata.preprocessing;
  if (faces === null) {
    const started = performance.now();
    const gray = await decodeGrayscale(bytes, { maxPixels: options.maxPixels });
    const decoded = performance.now();
    const input = normalizePixels(await toModelPixels(gray, spec), spec);
    return { inputs: [input], decodeMs: decoded - started, preprocessMs: performance.now() - decoded };
  }
  // The detector's fitted geometry; the model's own margin for detectors without one.
  const geometry = deps.detector.cropGeometry ?? marginGeometry(spec.face_margin);
  return faceInputs(bytes, info, faces, spec, geometry, options.align ?? geometry.align);
}

/** Stage 5: the answer for each face (or for the whole image). */
function answer(
  faces: readonly FaceBox[] | null,
  rows: readonly Float32Array[],
  info: ImageInfo,
  classes: readonly string[],
): FacePrediction[] {
  const size = { width: info.width, height: info.height };
  if (faces === null) {
    const whole = { left: 0, top: 0, ...size };
    return [{ box: whole, detection_score: null, landmarks: null, ...labelRow(rows[0], classes) }];
  }
  return faces.map((face, i) => ({
    box: reportedBox(face, size),
    detection_score: Math.round(face.score * SCORE_DECIMALS) / SCORE_DECIMALS,
    landmarks: Object.fromEntries(
      Object.entries(face.landmarks ?? {}).map(([name, point]) => [name, roundPoint(point)]),
    ),
    ...labelRow(rows[i], classes),
  }));
}

/**
 * Classifies every face in `bytes` (or the whole image with crop=none) with `version`.
 *
 * @example const result = await predictImage(deps, version, bytes, { faces: 'all', crop: 'auto', maxFaces: 32, maxPixels: 4e7, deadline }, signal);
 * @throws UnsupportedMediaTypeError, UndecodableImageError, ImageTooLargeError (from @fer/shared),
 *         OverloadedError, NotReadyError, InferenceFailedError, or the signal's reason.
 */
export async function predictImage(
  deps: PredictDeps,
  version: LoadedVersion,
  bytes: Buffer,
  options: PredictOptions,
  signal: AbortSignal,
): Promise<PredictResult> {
  const stage = (name: Stage) => deps.metrics.predictStages.inc({ stage: name });
  // Every stage checks the request's signal first: a request that timed out or whose client left
  // starts no more work.
  signal.throwIfAborted();

  stage('probe');
  const info = await probe(bytes, options.maxPixels);
  signal.throwIfAborted();

  // Both stages that decode pixels (the detector's reduced copy, the crops' region) hold a decode
  // slot when the image is large (decode-gate.ts). Waiting for it is abortable; each stage awaits its
  // own sharp work, so the slot is released only once no decode of this image is running.
  const permit = await deps.decodeGate.acquire(info.width * info.height, signal);
  let faces: FaceBox[] | null = null;
  let detectMs = 0;
  let prepared: FaceInputs;
  try {
    if (options.crop !== 'none') {
      stage('detect');
      ({ faces, ms: detectMs } = await locateFaces(deps, bytes, info, options, signal));
      signal.throwIfAborted();
    }
    stage('decode');
    prepared = await prepareInputs(deps, version, bytes, info, faces, options);
  } finally {
    permit.release();
  }
  const { inputs, decodeMs, preprocessMs } = prepared;
  signal.throwIfAborted();

  let result = { outputs: [] as Float32Array[], waitMs: 0, computeMs: 0 };
  if (inputs.length > 0) {
    stage('classify');
    result = await deps.batcher.classify(version, inputs, signal, options.deadline);
  }
  return {
    image: { width: info.width, height: info.height, format: info.format },
    faces: answer(faces, result.outputs, info, version.metadata.classes),
    timings: {
      decode: round(decodeMs),
      detect: round(detectMs),
      preprocess: round(preprocessMs),
      queue: round(result.waitMs),
      inference: round(result.computeMs),
    },
  };
}
