/**
 * face-api's TinyFaceDetector or SSD MobileNet V1 on TF.js (wasm in Node): the service's former
 * detectors, kept selectable (`DETECTOR=tiny|ssd`) for comparison. Only a worker started with one
 * of those kinds imports this file, so TF.js stays off the default request path.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '@fer/shared/tfjs';
import * as faceapi from '@vladmandic/face-api/dist/face-api.node-wasm.js';
import type { RawDetection, TfjsDetectorSettings } from './detector-protocol';
import type { Size } from './detector-views';

/** Side of the blank image used to warm the network up (first calls compile kernels). */
const WARMUP_SIDE = 64;

export class FaceApiDetector {
  private constructor(
    private readonly settings: TfjsDetectorSettings,
    /** The TF.js backend the detector runs on. */
    readonly backend: string,
  ) {}

  /**
   * Loads the weights and warms the network up.
   *
   * @example const detector = await FaceApiDetector.load({ kind: 'tiny', inputSize: 416, minScore: 0.3, modelDir });
   */
  static async load(settings: TfjsDetectorSettings): Promise<FaceApiDetector> {
    const choice = await selectBackend(settings.backend);
    const net = settings.kind === 'tiny' ? faceapi.nets.tinyFaceDetector : faceapi.nets.ssdMobilenetv1;
    await net.loadFromDisk(settings.modelDir);
    const detector = new FaceApiDetector(settings, choice.name);
    await detector.detect(new Uint8Array(WARMUP_SIDE * WARMUP_SIDE * 3), {
      width: WARMUP_SIDE,
      height: WARMUP_SIDE,
    });
    return detector;
  }

  private options(): faceapi.TinyFaceDetectorOptions | faceapi.SsdMobilenetv1Options {
    return this.settings.kind === 'tiny'
      ? new faceapi.TinyFaceDetectorOptions({
          inputSize: this.settings.inputSize,
          scoreThreshold: this.settings.minScore,
        })
      : new faceapi.SsdMobilenetv1Options({ minConfidence: this.settings.minScore, maxResults: 100 });
  }

  /** Faces in a packed RGB image, in its pixels (no landmarks: these detectors give none). */
  async detect(rgb: Uint8Array, size: Size): Promise<RawDetection[]> {
    const image = tf.tensor3d(rgb, [size.height, size.width, 3], 'int32');
    try {
      const found = await faceapi.detectAllFaces(image as unknown as faceapi.TNetInput, this.options());
      return found.map((d) => ({
        left: d.box.x,
        top: d.box.y,
        width: d.box.width,
        height: d.box.height,
        score: d.score,
      }));
    } finally {
      image.dispose();
    }
  }

  /** TF.js tensors held now (weights plus anything leaked). */
  heldTensors(): number {
    return tf.memory().numTensors;
  }
}
