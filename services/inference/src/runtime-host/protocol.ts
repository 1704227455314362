/**
 * Messages between a ThreadedRuntime (main thread) and its runtime worker. No code runs here.
 */
import type { ModelMetadata } from '@fer/shared';
import type { RuntimeKind, RuntimeOptions } from '../runtime/types';

/** `workerData` of a runtime worker: which runtime to create there. */
export interface RuntimeWorkerData {
  kind: RuntimeKind;
  options: RuntimeOptions;
}

export type HostRequest =
  | { type: 'load'; id: number; versionDir: string; metadata: ModelMetadata }
  | { type: 'run'; id: number; input: Float32Array; n: number }
  | { type: 'dispose'; id: number };

export type WorkerReply =
  { type: 'done'; id: number; output?: Float32Array } | { type: 'failed'; id: number; message: string };
