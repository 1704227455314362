/**
 * The message loop of a detector worker thread, whichever detector it runs: load it, say 'ready'
 * (or 'init-failed' with the reason), then answer detect and memory requests. The worker entry
 * files (blazeface-worker.ts, face-api-worker.ts) each import only their own runtime, so TF.js is
 * never loaded in a BlazeFace worker.
 */
import { parentPort } from 'node:worker_threads';
import type { RawDetection, WorkerMessage, WorkerRequest } from './detector-protocol';
import type { Size } from './detector-views';

/** What the loop needs of a detector, whichever runtime it uses. */
export interface LoadedDetector {
  backend: string;
  detect(rgb: Uint8Array, size: Size): Promise<RawDetection[]>;
  /** TF.js tensors held (0 for ONNX Runtime, which keeps none between calls). */
  heldTensors(): number;
}

/**
 * Loads a detector with `load` and serves the pool's requests with it until the thread ends.
 *
 * @example serveDetector(async () => wrap(await BlazeFaceDetector.load(workerData)));
 */
export function serveDetector(load: () => Promise<LoadedDetector>): void {
  const port = parentPort;
  if (!port) throw new Error('a detector worker must run in a worker thread');
  const post = (message: WorkerMessage) => port.postMessage(message);
  load().then(
    (detector) => {
      post({ kind: 'ready', backend: detector.backend });
      port.on('message', (request: WorkerRequest) => {
        if (request.kind === 'memory') {
          post({ kind: 'memory', id: request.id, numTensors: detector.heldTensors() });
          return;
        }
        const started = performance.now();
        detector.detect(request.rgb, { width: request.width, height: request.height }).then(
          (detections) =>
            post({
              kind: 'result',
              id: request.id,
              detections,
              ms: performance.now() - started,
              tensors: detector.heldTensors(),
            }),
          (error: unknown) => post({ kind: 'error', id: request.id, message: String(error) }),
        );
      });
    },
    (error: unknown) =>
      post({ kind: 'init-failed', message: error instanceof Error ? error.message : String(error) }),
  );
}
