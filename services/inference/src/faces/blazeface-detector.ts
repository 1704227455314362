/**
 * MediaPipe BlazeFace in onnxruntime-node: one ONNX session on one thread (the pool runs one
 * detector per worker thread, so cores are used by running images side by side), the whole image
 * and optionally overlapping tiles as network inputs, decoding and suppression from the pure
 * modules beside this one. Runs inside a detector worker, and in-process in measure-detectors.
 */
import { existsSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { BLAZEFACE_KEYPOINTS, BLAZEFACE_LAYERS, decodeLayer, type FaceCandidate } from './blazeface-decode';
import type { BlazeFaceSettings, RawDetection } from './detector-protocol';
import { fromView, tileViews, viewInput, wholeView, type Size, type View } from './detector-views';
import { suppressOverlaps } from './suppress-overlaps';

const INPUT = 'input:0';
/** Score logits and regressors of the 16x16 and the 8x8 grid, in BLAZEFACE_LAYERS order. */
const SCORES = ['Identity:0', 'Identity_1:0'] as const;
const REGRESSORS = ['Identity_2:0', 'Identity_3:0'] as const;

/** The model file is missing, unreadable, or not a BlazeFace graph; the message names the file. */
export class DetectorModelError extends Error {
  readonly code = 'DETECTOR_MODEL_INVALID';
  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super(`face detector model ${file}: ${reason}`, options);
    this.name = 'DetectorModelError';
  }
}

/** The side of a BlazeFace session's square input, or the problems that make it not one. */
function inputSide(session: ort.InferenceSession): number | string {
  const input = session.inputMetadata.find((m) => m.name === INPUT);
  if (!input || !input.isTensor)
    return `no tensor input "${INPUT}" (inputs: ${session.inputNames.join(', ')})`;
  const [n, h, w, c] = input.shape;
  if (input.shape.length !== 4 || n !== 1 || h !== w || c !== 3 || typeof h !== 'number') {
    return `input "${INPUT}" is [${input.shape.join(', ')}], expected [1, S, S, 3]`;
  }
  const missing = [...SCORES, ...REGRESSORS].filter((name) => !session.outputNames.includes(name));
  if (missing.length > 0) return `outputs ${missing.join(', ')} are missing`;
  return h;
}

export class BlazeFaceDetector {
  private constructor(
    private readonly session: ort.InferenceSession,
    /** Side of the network input (128 or 256). */
    readonly inputSize: number,
    private readonly settings: BlazeFaceSettings,
  ) {}

  /**
   * Loads the model named in `settings` on one thread.
   *
   * @example const detector = await BlazeFaceDetector.load({ kind: 'blazeface', modelPath, minScore: 0.5, tileSide: 0, tileOverlap: 0.25, clusterIou: 0.3, containedFraction: 0.7 });
   * @throws DetectorModelError naming the file and what is wrong with it.
   */
  static async load(settings: BlazeFaceSettings): Promise<BlazeFaceDetector> {
    const file = settings.modelPath;
    if (!existsSync(file)) throw new DetectorModelError(file, 'the file does not exist');
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(file, {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        logSeverityLevel: 3,
      });
    } catch (error) {
      throw new DetectorModelError(file, `ONNX Runtime cannot load it (${String(error)})`, { cause: error });
    }
    const side = inputSide(session);
    if (typeof side === 'string') {
      await session.release();
      throw new DetectorModelError(file, `not a BlazeFace model: ${side}`);
    }
    return new BlazeFaceDetector(session, side, settings);
  }

  /** The views of an image of `size`: the whole image, then the tiles when configured. */
  views(size: Size): View[] {
    const whole = wholeView(size);
    if (this.settings.tileSide <= 0) return [whole];
    return [whole, ...tileViews(size, this.settings.tileSide, this.settings.tileOverlap)];
  }

  /** Candidates of one view, in image pixels, before suppression. */
  private async detectView(rgb: Uint8Array, size: Size, view: View): Promise<FaceCandidate[]> {
    const s = this.inputSize;
    const input = new ort.Tensor('float32', viewInput(rgb, size, view, s), [1, s, s, 3]);
    const outputs = await this.session.run({ [INPUT]: input });
    try {
      return BLAZEFACE_LAYERS.flatMap((layer, i) =>
        decodeLayer(
          outputs[SCORES[i]].data as Float32Array,
          outputs[REGRESSORS[i]].data as Float32Array,
          layer,
          s,
          this.settings.minScore,
        ).map((candidate) => fromView(candidate, view, s)),
      );
    } finally {
      for (const tensor of Object.values(outputs)) tensor.dispose();
    }
  }

  /**
   * The faces in a packed RGB image, one box each with named landmarks, highest score first, in
   * the image's pixels.
   *
   * @example const faces = await detector.detect(rgb, { width: 256, height: 171 });
   */
  async detect(rgb: Uint8Array, size: Size): Promise<RawDetection[]> {
    const candidates: FaceCandidate[] = [];
    for (const view of this.views(size)) candidates.push(...(await this.detectView(rgb, size, view)));
    const faces = suppressOverlaps(candidates, {
      iou: this.settings.clusterIou,
      contained: this.settings.containedFraction,
    });
    return faces.map((face) => ({
      left: face.left,
      top: face.top,
      width: face.width,
      height: face.height,
      score: face.score,
      landmarks: Object.fromEntries(BLAZEFACE_KEYPOINTS.map((name, k) => [name, face.keypoints[k]])),
    }));
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
