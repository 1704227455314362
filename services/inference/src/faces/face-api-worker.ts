/**
 * Entry file of a face-api (TF.js) detector worker thread, for DETECTOR=tiny|ssd (started by
 * detector-pool.ts only).
 */
import { workerData } from 'node:worker_threads';
import type { TfjsDetectorSettings } from './detector-protocol';
import { serveDetector } from './detector-worker-loop';
import { FaceApiDetector } from './face-api-detector';

serveDetector(async () => {
  const detector = await FaceApiDetector.load(workerData as TfjsDetectorSettings);
  return {
    backend: detector.backend,
    detect: (rgb, size) => detector.detect(rgb, size),
    heldTensors: () => detector.heldTensors(),
  };
});
