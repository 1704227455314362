/**
 * The service's photo path in one process, for benchmarks that send thousands of photos: the
 * detection copy (detectionCopy), the configured detector (BlazeFace with the service's default
 * settings), boxes mapped back and the largest face chosen (toOriginal, selectFaces), the crops
 * (faceInputs) and a model version in ONNX Runtime, batched. The same functions the service calls,
 * without HTTP, so a sweep over crop geometries costs model time only.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  METADATA_FILE,
  preprocessImage,
  probeImage,
  type ImageInfo,
  type ModelMetadata,
  type PreprocessSpec,
} from '@fer/shared';
import { loadConfig } from '../../src/config';
import { BlazeFaceDetector } from '../../src/faces/blazeface-detector';
import type { BlazeFaceSettings } from '../../src/faces/detector-protocol';
import type { CropGeometry } from '../../src/faces/crop-geometry';
import { detectionCopy } from '../../src/faces/face-detector';
import { selectFaces, toOriginal, type FaceBox } from '../../src/faces/face-boxes';
import { detectorSettings } from '../../src/plugins/app/detector';
import { faceInputs } from '../../src/predict/face-crops';
import { createInProcessRuntime, type InferenceRuntime } from '../../src/runtime';

/** Crops per ONNX Runtime call. */
const BATCH = 64;

export interface Located {
  info: ImageInfo;
  /** The largest face, or null when the detector found none. */
  face: FaceBox | null;
}

export class PhotoPipeline {
  private constructor(
    private readonly detector: BlazeFaceDetector,
    private readonly maxSide: number,
    private readonly runtime: InferenceRuntime,
    readonly metadata: ModelMetadata,
  ) {}

  get spec(): PreprocessSpec {
    return this.metadata.preprocessing;
  }

  /**
   * The service's default detector and the model version in `versionDir`.
   *
   * @example const pipeline = await PhotoPipeline.create('models/resnet-small-x3/1');
   */
  static async create(versionDir: string, threads?: number): Promise<PhotoPipeline> {
    const config = loadConfig({});
    const settings = detectorSettings(config) as BlazeFaceSettings;
    const detector = await BlazeFaceDetector.load(settings);
    const metadata = JSON.parse(
      await readFile(path.join(versionDir, METADATA_FILE), 'utf8'),
    ) as ModelMetadata;
    const runtime = createInProcessRuntime('onnx', { device: 'cpu', threads });
    await runtime.load(versionDir, metadata);
    return new PhotoPipeline(detector, config.detector.maxSide, runtime, metadata);
  }

  /** The faces the service would find in `bytes`, largest first. */
  async detect(bytes: Uint8Array): Promise<{ info: ImageInfo; faces: FaceBox[] }> {
    const info = await probeImage(bytes);
    const { rgb, size } = await detectionCopy(bytes, info, this.maxSide);
    const faces = toOriginal(await this.detector.detect(rgb, size), size, info);
    return { info, faces: selectFaces(faces, 'all', 1000) };
  }

  /** The crop of one face as the service prepares it. */
  async faceInput(
    bytes: Uint8Array,
    located: Located & { face: FaceBox },
    geometry: CropGeometry,
    align: boolean,
  ) {
    const { inputs } = await faceInputs(bytes, located.info, [located.face], this.spec, geometry, align);
    return inputs[0];
  }

  /** The whole image as one face (crop=none). */
  wholeInput(bytes: Uint8Array): Promise<Float32Array> {
    return preprocessImage(bytes, this.spec);
  }

  /** Probabilities for each input, in order. */
  async classify(inputs: readonly Float32Array[]): Promise<Float32Array[]> {
    const classes = this.metadata.classes.length;
    const rows: Float32Array[] = [];
    for (let start = 0; start < inputs.length; start += BATCH) {
      const batch = inputs.slice(start, start + BATCH);
      const size = batch[0].length;
      const packed = new Float32Array(size * batch.length);
      batch.forEach((input, i) => packed.set(input, i * size));
      const out = await this.runtime.run(packed, batch.length);
      for (let i = 0; i < batch.length; i++) rows.push(out.slice(i * classes, (i + 1) * classes));
    }
    return rows;
  }

  async close(): Promise<void> {
    await this.detector.release();
    await this.runtime.dispose();
  }
}

/** Index of the largest value. */
export function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** Sum of absolute differences of two probability rows. */
export function l1(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum;
}
