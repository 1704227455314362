/**
 * A worker thread running face-api's pretrained face detector on TF.js (wasm in Node, one thread
 * per worker). Detection costs tens of milliseconds of CPU per photo; running it here keeps the
 * event loop free and lets the pool use every core. Started by `detector-pool.ts` only.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '@fer/shared/tfjs';
import * as faceapi from '@vladmandic/face-api/dist/face-api.node-wasm.js';
import type { DetectorSettings, RawDetection, WorkerMessage, WorkerRequest } from './detector-protocol';

/** Side of the blank image used to warm the network up (first calls compile kernels). */
const WARMUP_SIDE = 64;

const settings = workerData as DetectorSettings;
const port = parentPort;
if (!port) throw new Error('detector-worker.ts must run in a worker thread');

function post(message: WorkerMessage): void {
  port?.postMessage(message);
}

function options(): faceapi.TinyFaceDetectorOptions | faceapi.SsdMobilenetv1Options {
  return settings.kind === 'tiny'
    ? new faceapi.TinyFaceDetectorOptions({
        inputSize: settings.inputSize,
        scoreThreshold: settings.minScore,
      })
    : new faceapi.SsdMobilenetv1Options({ minConfidence: settings.minScore, maxResults: 100 });
}

async function detect(rgb: Uint8Array, width: number, height: number): Promise<RawDetection[]> {
  const image = tf.tensor3d(rgb, [height, width, 3], 'int32');
  try {
    const found = await faceapi.detectAllFaces(image as unknown as faceapi.TNetInput, options());
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

async function init(): Promise<string> {
  const choice = await selectBackend(settings.backend);
  const net = settings.kind === 'tiny' ? faceapi.nets.tinyFaceDetector : faceapi.nets.ssdMobilenetv1;
  await net.loadFromDisk(settings.modelDir);
  await detect(new Uint8Array(WARMUP_SIDE * WARMUP_SIDE * 3), WARMUP_SIDE, WARMUP_SIDE);
  return choice.name;
}

init().then(
  (backend) => {
    post({ kind: 'ready', backend });
    port.on('message', (request: WorkerRequest) => {
      if (request.kind === 'memory') {
        post({ kind: 'memory', id: request.id, numTensors: tf.memory().numTensors });
        return;
      }
      const started = performance.now();
      detect(request.rgb, request.width, request.height).then(
        (detections) =>
          post({
            kind: 'result',
            id: request.id,
            detections,
            ms: performance.now() - started,
            tensors: tf.memory().numTensors,
          }),
        (error: unknown) => post({ kind: 'error', id: request.id, message: String(error) }),
      );
    });
  },
  (error: unknown) => post({ kind: 'init-failed', message: String(error) }),
);
