/**
 * The messages between the detector pool (main thread) and its worker threads. Kept in one file
 * so both sides agree on them; no code runs here.
 */
import type { DetectorKind } from '../config';

/** Everything a worker needs to load its detector, passed as `workerData`. */
export interface DetectorSettings {
  kind: DetectorKind;
  /** Side of the square the tiny detector's network sees. */
  inputSize: number;
  minScore: number;
  /** Folder holding face-api's weight manifests and shards. */
  modelDir: string;
  /** TF.js backend to force (default: the best available, see @fer/shared selectBackend). */
  backend?: 'tensorflow' | 'wasm' | 'cpu';
}

/** A face box in the pixel coordinates of the image the worker was given. */
export interface RawDetection {
  left: number;
  top: number;
  width: number;
  height: number;
  score: number;
}

export interface DetectRequest {
  kind: 'detect';
  id: number;
  /** Packed RGB, 3 bytes per pixel, row-major. */
  rgb: Uint8Array;
  width: number;
  height: number;
}

/** Asks a worker how many TF.js tensors it holds (the leak check of the tests). */
export interface MemoryRequest {
  kind: 'memory';
  id: number;
}

export type WorkerRequest = DetectRequest | MemoryRequest;

export type WorkerMessage =
  | { kind: 'ready'; backend: string }
  | { kind: 'init-failed'; message: string }
  /** `tensors`: TF.js tensors the worker holds once the image's own are freed (weights + leaks). */
  | { kind: 'result'; id: number; detections: RawDetection[]; ms: number; tensors: number }
  | { kind: 'error'; id: number; message: string }
  | { kind: 'memory'; id: number; numTensors: number };
