/**
 * Live camera mode: frames from getUserMedia go to POST /predict one at a time. The next frame is
 * captured only after the previous answer is back (and no sooner than MIN_FRAME_INTERVAL_MS after
 * the previous frame), so requests never pile up however slow the service is; a busy answer
 * (503/429) pauses for its Retry-After and then sends a fresh frame, never the stale one; a hidden
 * tab sends nothing.
 */
import { ApiError, sleep } from './api.js';

/** At most about four frames a second: smooth enough to follow a face, light on a shared service. */
export const MIN_FRAME_INTERVAL_MS = 250;
/** Frames are scaled down to this longest side before sending (the detector works at 640 px). */
export const FRAME_MAX_SIDE = 640;
const JPEG_QUALITY = 0.85;
/** Frames per second is averaged over this many answers. */
const RATE_WINDOW = 8;

/** @typedef {import('./types.js').PredictResponse} PredictResponse */

/**
 * @typedef {{
 *   send: (frame: Blob, signal: AbortSignal) => Promise<PredictResponse>,
 *   onAnswer: (response: PredictResponse, stats: { framesPerSecond: number | null, roundTripMs: number }) => void,
 *   onBusy: (error: ApiError, waitMs: number) => void,
 *   onStop: (error: unknown) => void,
 * }} CameraHooks
 */

/**
 * A human sentence for a getUserMedia failure.
 *
 * @param {unknown} error
 * @returns {string}
 */
export function cameraErrorMessage(error) {
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'Camera access was refused. Allow the camera for this site in the browser settings, or upload a photo instead.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No camera was found on this device.';
    case 'NotReadableError':
    case 'AbortError':
      return 'The camera is in use by another application, or could not be opened.';
    default:
      return `The camera could not start${error instanceof Error && error.message ? `: ${error.message}` : '.'}`;
  }
}

export class CameraSession {
  /**
   * @param {HTMLVideoElement} video
   * @param {CameraHooks} hooks
   */
  constructor(video, hooks) {
    this.video = video;
    this.hooks = hooks;
    /** @type {MediaStream | null} */
    this.stream = null;
    /** @type {AbortController | null} */
    this.controller = null;
    this.canvas = document.createElement('canvas');
    /** @type {number[]} */
    this.answerTimes = [];
  }

  get running() {
    return this.controller !== null;
  }

  /**
   * Opens the camera and starts sending frames.
   *
   * @throws {Error} with a readable message when the camera cannot be opened.
   */
  async start() {
    if (this.running) return;
    if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
      throw new Error(
        'The camera needs a secure page: open this service over https, or as http://localhost on this computer.',
      );
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: 'user', width: { ideal: 1280 }, height: { ideal: 720 } },
        audio: false,
      });
    } catch (error) {
      throw new Error(cameraErrorMessage(error));
    }
    this.stream = stream;
    this.video.srcObject = stream;
    await this.video.play();
    this.controller = new AbortController();
    this.answerTimes = [];
    void this.loop(this.controller.signal);
  }

  /** Stops sending (an answer still on its way is dropped) and releases the camera. */
  stop() {
    this.controller?.abort(new DOMException('camera stopped', 'AbortError'));
    this.controller = null;
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
    this.video.srcObject = null;
  }

  /** @returns {Promise<Blob | null>} the current frame as JPEG, scaled to FRAME_MAX_SIDE */
  capture() {
    const { videoWidth, videoHeight } = this.video;
    if (videoWidth === 0 || videoHeight === 0) return Promise.resolve(null);
    const scale = Math.min(1, FRAME_MAX_SIDE / Math.max(videoWidth, videoHeight));
    this.canvas.width = Math.round(videoWidth * scale);
    this.canvas.height = Math.round(videoHeight * scale);
    const context = this.canvas.getContext('2d');
    if (!context) return Promise.resolve(null);
    context.drawImage(this.video, 0, 0, this.canvas.width, this.canvas.height);
    return new Promise((resolve) => this.canvas.toBlob(resolve, 'image/jpeg', JPEG_QUALITY));
  }

  /**
   * One request at a time, by construction: each turn awaits its answer before the next capture.
   *
   * @param {AbortSignal} signal
   */
  async loop(signal) {
    try {
      while (!signal.aborted) {
        if (document.hidden) {
          await new Promise((resolve) =>
            document.addEventListener('visibilitychange', resolve, { once: true }),
          );
          continue;
        }
        const started = performance.now();
        const frame = await this.capture();
        if (signal.aborted) break;
        if (frame) {
          try {
            const response = await this.hooks.send(frame, signal);
            const now = performance.now();
            this.answerTimes = [...this.answerTimes, now].slice(-RATE_WINDOW);
            const span = now - this.answerTimes[0];
            const framesPerSecond =
              this.answerTimes.length > 1 ? ((this.answerTimes.length - 1) * 1000) / span : null;
            if (!signal.aborted)
              this.hooks.onAnswer(response, { framesPerSecond, roundTripMs: now - started });
          } catch (error) {
            if (signal.aborted) break;
            if (error instanceof ApiError && error.busy) {
              const waitMs = error.retryAfterMs ?? 1000;
              this.hooks.onBusy(error, waitMs);
              this.answerTimes = [];
              await sleep(waitMs, signal);
              continue;
            }
            throw error;
          }
        }
        await sleep(Math.max(0, MIN_FRAME_INTERVAL_MS - (performance.now() - started)), signal);
      }
    } catch (error) {
      if (signal.aborted) return;
      this.stop();
      this.hooks.onStop(error);
    }
  }
}
