/**
 * The contract between the model manager and the engines that run a model (DESIGN §6).
 * One instance serves one model version; the batching queue calls `run` one batch at a time.
 */
import type { ModelMetadata } from '@fer/shared';

export const RUNTIME_KINDS = ['onnx', 'tfjs'] as const;
export type RuntimeKind = (typeof RUNTIME_KINDS)[number];

export interface InferenceRuntime {
  readonly kind: RuntimeKind;
  /** Loads the version's model from its registry folder and warms it up with one batch. */
  load(versionDir: string, metadata: ModelMetadata): Promise<void>;
  /**
   * Classifies `n` inputs laid out NHWC float32 [n, S, S, 3] (S = metadata.preprocessing.input_size)
   * and resolves to [n, classes] probabilities, row by row in input order.
   */
  run(input: Float32Array, n: number): Promise<Float32Array>;
  /** Frees the session or tensors; the instance is unusable afterwards. */
  dispose(): Promise<void>;
}

/** Options every runtime understands; each ignores what does not apply to it. */
export interface RuntimeOptions {
  /** 'cpu' or 'cuda' (onnx only). */
  device: 'cpu' | 'cuda';
  /** Intra-op threads for CPU inference; defaults to the available cores. */
  threads?: number;
  /** tfjs only: force a TF.js backend instead of the best available one. */
  tfjsBackend?: 'tensorflow' | 'wasm' | 'cpu';
}

export type RuntimeFactory = (kind: RuntimeKind, options: RuntimeOptions) => InferenceRuntime;
