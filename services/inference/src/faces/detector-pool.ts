/**
 * A fixed pool of face-detector worker threads with a bounded FIFO of waiting images. Each worker
 * holds its own copy of the detector and runs one image at a time; a crashed worker fails only its
 * own image and is replaced.
 */
import workerThreads, { Worker } from 'node:worker_threads';
import path from 'node:path';
import { OverloadedError } from '../errors';
import type {
  DetectorSettings,
  DetectRequest,
  MemoryRequest,
  RawDetection,
  WorkerMessage,
} from './detector-protocol';

/**
 * The worker entry file of each detector kind. Workers are TypeScript: each thread registers tsx's
 * loader before requiring its file.
 */
function workerBootstrap(kind: DetectorSettings['kind']): string {
  const file = path.join(__dirname, kind === 'blazeface' ? 'blazeface-worker.ts' : 'face-api-worker.ts');
  return `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(file)});`;
}
/** Loading the runtime and weights and warming up; generous because a busy CI machine is slow. */
export const WORKER_START_TIMEOUT_MS = 120_000;
/** Pause before replacing a crashed worker, so a worker that always crashes cannot spin a core. */
const RESPAWN_DELAY_MS = 1_000;

export interface RgbImage {
  rgb: Uint8Array;
  width: number;
  height: number;
}

export interface DetectionResult {
  detections: RawDetection[];
  /** Worker time of the detection itself (ms), without queueing. */
  ms: number;
}

interface Task {
  image: RgbImage;
  resolve(result: DetectionResult): void;
  reject(error: unknown): void;
  signal: AbortSignal;
  onAbort: () => void;
}

interface Slot {
  worker: Worker;
  task: (Task & { id: number }) | null;
  /** TF.js tensors the worker reported holding after its last detection (0 for ONNX Runtime). */
  tensors: number | null;
}

export interface PoolLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export class DetectorPool {
  private readonly slots: Slot[] = [];
  private readonly waiting: Task[] = [];
  private nextId = 1;
  private closed = false;
  private readonly memoryReplies = new Map<number, (numTensors: number) => void>();
  backend = 'unknown';

  private constructor(
    private readonly settings: DetectorSettings,
    private readonly maxQueue: number,
    private readonly logger: PoolLogger,
  ) {}

  /**
   * Starts `size` workers and resolves once every one has loaded its weights and warmed up.
   *
   * @example const pool = await DetectorPool.start(settings, 2, { maxQueue: 64, logger });
   */
  static async start(
    settings: DetectorSettings,
    size: number,
    options: { maxQueue: number; logger: PoolLogger },
  ): Promise<DetectorPool> {
    const pool = new DetectorPool(settings, options.maxQueue, options.logger);
    try {
      await Promise.all(Array.from({ length: size }, () => pool.spawn()));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /** Images waiting for a free worker. */
  get queueDepth(): number {
    return this.waiting.length;
  }

  get size(): number {
    return this.slots.length;
  }

  /**
   * TF.js tensors the workers held after their latest detections, summed (null before any): flat
   * in a healthy service, growing when detections leak. Read without disturbing busy workers.
   */
  get heldTensors(): number | null {
    const reported = this.slots.map((slot) => slot.tensors).filter((n): n is number => n !== null);
    return reported.length === 0 ? null : reported.reduce((a, b) => a + b, 0);
  }

  /**
   * Finds the faces in an RGB image. The image's buffer is transferred to the worker: do not use
   * it afterwards.
   *
   * @throws OverloadedError when too many images wait; the signal's reason when aborted first.
   */
  detect(image: RgbImage, signal: AbortSignal): Promise<DetectionResult> {
    if (this.closed) return Promise.reject(new Error('the face detector is closed'));
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.waiting.length >= this.maxQueue) return Promise.reject(new OverloadedError(1));
    return new Promise<DetectionResult>((resolve, reject) => {
      const task: Task = {
        image,
        resolve,
        reject,
        signal,
        onAbort: () => {
          const index = this.waiting.indexOf(task);
          if (index >= 0) this.waiting.splice(index, 1);
          reject(signal.reason);
        },
      };
      signal.addEventListener('abort', task.onAbort, { once: true });
      this.waiting.push(task);
      this.pump();
    });
  }

  /** TF.js tensors each worker holds now (weights plus anything leaked); for the leak test. */
  async tensorCounts(): Promise<number[]> {
    return Promise.all(
      this.slots.map(
        (slot) =>
          new Promise<number>((resolve) => {
            const id = this.nextId++;
            this.memoryReplies.set(id, resolve);
            const request: MemoryRequest = { kind: 'memory', id };
            slot.worker.postMessage(request);
          }),
      ),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.waiting.splice(0)) task.reject(new Error('the face detector is shutting down'));
    await Promise.all(this.slots.splice(0).map((slot) => slot.worker.terminate()));
  }

  private spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(workerBootstrap(this.settings.kind), {
        eval: true,
        workerData: this.settings,
      });
      const slot: Slot = { worker, task: null, tensors: null };
      let started = false;
      const timer = setTimeout(() => {
        void worker.terminate();
        reject(new Error(`face detector worker did not start within ${WORKER_START_TIMEOUT_MS} ms`));
      }, WORKER_START_TIMEOUT_MS);
      worker.on('message', (message: WorkerMessage) => {
        switch (message.kind) {
          case 'ready':
            started = true;
            clearTimeout(timer);
            this.backend = message.backend;
            this.slots.push(slot);
            resolve();
            this.pump();
            break;
          case 'init-failed':
            clearTimeout(timer);
            void worker.terminate();
            reject(new Error(`face detector failed to load: ${message.message}`));
            break;
          case 'result':
          case 'error':
            this.finish(slot, message);
            break;
          case 'memory':
            this.memoryReplies.get(message.id)?.(message.numTensors);
            this.memoryReplies.delete(message.id);
            break;
        }
      });
      worker.on('error', (error) => {
        if (!started) {
          clearTimeout(timer);
          reject(error);
          return;
        }
        this.logger.error({ err: String(error) }, 'face detector worker crashed');
      });
      worker.on('exit', (code) => {
        const index = this.slots.indexOf(slot);
        if (index < 0) return; // terminated by close() or never started
        this.slots.splice(index, 1);
        slot.task?.reject(new Error(`face detector worker exited with code ${code}`));
        slot.task = null;
        if (this.closed) return;
        setTimeout(() => {
          if (this.closed) return;
          this.spawn().then(
            () => this.logger.info({}, 'face detector worker replaced'),
            (error: unknown) =>
              this.logger.error({ err: String(error) }, 'face detector worker could not be replaced'),
          );
        }, RESPAWN_DELAY_MS).unref();
      });
    });
  }

  private finish(slot: Slot, message: Extract<WorkerMessage, { kind: 'result' | 'error' }>): void {
    const task = slot.task;
    slot.task = null;
    if (message.kind === 'result') slot.tensors = message.tensors;
    if (task && task.id === message.id) {
      task.signal.removeEventListener('abort', task.onAbort);
      if (message.kind === 'result') task.resolve({ detections: message.detections, ms: message.ms });
      else task.reject(new Error(`face detection failed: ${message.message}`));
    }
    this.pump();
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.task || this.waiting.length === 0) continue;
      const task = this.waiting.shift() as Task;
      const id = this.nextId++;
      slot.task = { ...task, id };
      const { rgb, width, height } = task.image;
      // Transfer the pixels instead of copying them; copy first if the buffer is shared, or if Node
      // refuses to move it (Node >= 22 throws DataCloneError for buffers it marks untransferable, such
      // as sharp's output and Buffer's pool). The copy is a plain Uint8Array: a Buffer's slice() is a
      // view on the same memory, not a copy.
      const own =
        rgb.byteOffset === 0 &&
        rgb.byteLength === rgb.buffer.byteLength &&
        rgb.buffer instanceof ArrayBuffer &&
        !(workerThreads.isMarkedAsUntransferable?.(rgb.buffer) ?? false)
          ? rgb
          : new Uint8Array(rgb);
      const request: DetectRequest = { kind: 'detect', id, rgb: own, width, height };
      slot.worker.postMessage(request, [own.buffer as ArrayBuffer]);
    }
  }
}
