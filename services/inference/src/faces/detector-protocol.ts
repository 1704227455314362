/**
 * The messages between the detector pool (main thread) and its worker threads. Kept in one file
 * so both sides agree on them; no code runs here.
 */
import type { Point } from './blazeface-decode';

/** face-api's detectors on TF.js (kept selectable for comparison; never the default). */
export interface TfjsDetectorSettings {
  kind: 'tiny' | 'ssd';
  /** Side of the square the tiny detector's network sees. */
  inputSize: number;
  minScore: number;
  /** Folder holding face-api's weight manifests and shards. */
  modelDir: string;
  /** TF.js backend to force (default: the best available, see @fer/shared selectBackend). */
  backend?: 'tensorflow' | 'wasm' | 'cpu';
}

/** MediaPipe BlazeFace in onnxruntime-node (see detectors/blazeface/SOURCE.md). */
export interface BlazeFaceSettings {
  kind: 'blazeface';
  /** The .onnx file; its input side (128 or 256) comes from the file. */
  modelPath: string;
  minScore: number;
  /**
   * Also look at overlapping tiles of this side (in pixels of the image the worker gets), for faces
   * too small for the whole-image pass; 0 for the whole-image pass only.
   */
  tileSide: number;
  /** Fraction of a tile its neighbours overlap. */
  tileOverlap: number;
  /** Non-maximum suppression: candidates overlapping this much (IoU) are one face. */
  clusterIou: number;
  /** A box this much inside a higher-scoring one (fraction of the smaller) is dropped. */
  containedFraction: number;
}

/** Everything a worker needs to load its detector, passed as `workerData`. */
export type DetectorSettings = TfjsDetectorSettings | BlazeFaceSettings;

/** A face box in the pixel coordinates of the image the worker was given. */
export interface RawDetection {
  left: number;
  top: number;
  width: number;
  height: number;
  score: number;
  /** Named points (eyes, nose, mouth, ears) where the detector gives them. */
  landmarks?: Record<string, Point>;
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
  /** `tensors`: TF.js tensors the worker holds once the image's own are freed (0 without TF.js). */
  | { kind: 'result'; id: number; detections: RawDetection[]; ms: number; tensors: number }
  | { kind: 'error'; id: number; message: string }
  | { kind: 'memory'; id: number; numTensors: number };
