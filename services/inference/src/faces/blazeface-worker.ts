/**
 * Entry file of a BlazeFace detector worker thread (started by detector-pool.ts only): ONNX
 * Runtime on one thread, no TF.js.
 */
import { workerData } from 'node:worker_threads';
import { BlazeFaceDetector } from './blazeface-detector';
import type { BlazeFaceSettings } from './detector-protocol';
import { serveDetector } from './detector-worker-loop';

serveDetector(async () => {
  const detector = await BlazeFaceDetector.load(workerData as BlazeFaceSettings);
  // Warm-up: the first run allocates the session's buffers.
  await detector.detect(new Uint8Array(3), { width: 1, height: 1 });
  return {
    backend: 'onnxruntime-cpu',
    detect: (rgb, size) => detector.detect(rgb, size),
    heldTensors: () => 0,
  };
});
