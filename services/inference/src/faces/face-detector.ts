/**
 * Finding the faces in an uploaded image: a downscaled, upright RGB copy made with sharp (off the
 * event loop, in libuv's pool; JPEG and WebP are decoded straight at the reduced size, sharp's
 * shrink-on-load), detection in the worker pool, boxes and landmarks mapped back to the upright
 * original. How to crop is described by the detector's crop geometry; cropping is the caller's
 * business. The pool starts in the background so the service answers health checks (and
 * `crop=none` requests) while the detector warms up.
 */
import sharp from 'sharp';
import { UndecodableImageError } from '@fer/shared';
import { NotReadyError } from '../errors';
import type { DetectorSettings } from './detector-protocol';
import { DetectorPool, type PoolLogger } from './detector-pool';
import { detectionSize, toOriginal, type FaceBox, type Size } from './face-boxes';
import type { CropGeometry } from './crop-geometry';

export interface FaceDetectorOptions {
  settings: DetectorSettings;
  workers: number;
  /** Longest side of the copy the detector sees. */
  maxSide: number;
  /** Images allowed to wait for a worker before requests are refused (503). */
  maxQueue: number;
  logger: PoolLogger;
  /** How this detector's boxes become model crops (fitted per detector); null: the model's margin. */
  cropGeometry: CropGeometry | null;
}

export type DetectorState = 'stopped' | 'starting' | 'ready' | 'failed';

export interface Detection {
  /** Faces in original (upright) pixel coordinates, in detector order. */
  faces: FaceBox[];
  /** Milliseconds spent making the downscaled copy and in the detector (including its queue). */
  resizeMs: number;
  detectMs: number;
}

/**
 * The upright RGB copy a detector sees: longest side at most `maxSide`, decoded straight at that
 * size where the format allows (sharp's shrink-on-load for JPEG and WebP).
 *
 * @example const { rgb, size } = await detectionCopy(bytes, { width: 2280, height: 1588 }, 256); // 256x178
 * @throws UndecodableImageError when the pixel data is corrupt.
 */
export async function detectionCopy(
  bytes: Uint8Array,
  original: Size,
  maxSide: number,
): Promise<{ rgb: Uint8Array; size: Size }> {
  const size = detectionSize(original, maxSide);
  let rgb: Buffer;
  try {
    rgb = await sharp(bytes, { limitInputPixels: original.width * original.height })
      .autoOrient()
      .resize(size.width, size.height, { fit: 'fill' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer();
  } catch (error) {
    throw new UndecodableImageError('the image data is corrupt or truncated', { cause: error });
  }
  if (rgb.length !== size.width * size.height * 3) {
    throw new UndecodableImageError(`unexpected pixel layout (${rgb.length} bytes)`);
  }
  return { rgb: new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.length), size };
}

export class FaceDetector {
  private pool: DetectorPool | null = null;
  private starting: Promise<void> | null = null;
  private failure: string | null = null;
  private closed = false;

  constructor(private readonly options: FaceDetectorOptions) {}

  get state(): DetectorState {
    if (this.pool) return 'ready';
    if (this.failure !== null) return 'failed';
    return this.starting ? 'starting' : 'stopped';
  }

  /** How this detector's boxes become model crops; null when the model's own margin applies. */
  get cropGeometry(): CropGeometry | null {
    return this.options.cropGeometry;
  }

  /** Why the detector could not start (null unless `state` is 'failed'). */
  get failureReason(): string | null {
    return this.failure;
  }

  /** Images waiting for a worker. */
  get queueDepth(): number {
    return this.pool?.queueDepth ?? 0;
  }

  /** TF.js tensors the workers held after their latest detections (see DetectorPool). */
  get heldTensors(): number | null {
    return this.pool?.heldTensors ?? null;
  }

  /** The runtime the workers run on (onnxruntime-cpu, or the TF.js backend). */
  get backend(): string | null {
    return this.pool?.backend ?? null;
  }

  /** Starts the worker pool once; resolves when it is ready or has failed (see `state`). */
  start(): Promise<void> {
    this.starting ??= DetectorPool.start(this.options.settings, this.options.workers, {
      maxQueue: this.options.maxQueue,
      logger: this.options.logger,
    }).then(
      async (pool) => {
        if (this.closed) await pool.close();
        else this.pool = pool;
      },
      (error: unknown) => {
        this.failure = String(error);
        this.options.logger.error({ err: this.failure }, 'face detector failed to start');
      },
    );
    return this.starting;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.starting;
    await this.pool?.close();
    this.pool = null;
  }

  /**
   * Detects faces in `bytes`, whose upright size the caller already probed.
   *
   * @example const { faces } = await detector.detect(bytes, { width: 2280, height: 1588 }, signal);
   */
  async detect(bytes: Uint8Array, original: Size, signal: AbortSignal): Promise<Detection> {
    const started = performance.now();
    if (!this.pool) await this.start();
    const pool = this.pool;
    if (!pool) throw new NotReadyError('The face detector is not available; crop=none still works');
    const { rgb, size: target } = await detectionCopy(bytes, original, this.options.maxSide);
    const resized = performance.now();
    signal.throwIfAborted();
    const { detections } = await pool.detect({ rgb, ...target }, signal);
    return {
      faces: toOriginal(detections, target, original),
      resizeMs: resized - started,
      detectMs: performance.now() - resized,
    };
  }
}
