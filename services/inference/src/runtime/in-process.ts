/**
 * The in-process runtime factory: the engine itself (ONNX Runtime or TF.js) on the calling thread.
 * The service does not hand it to buildApp directly: server.ts and the tests pass
 * runtime-host's `createThreadedRuntime`, whose worker threads each call this one; the benchmarks
 * and runtime tests use it to time or check an engine without a thread in between.
 */
import { OnnxRuntime } from './onnx';
import type { InferenceRuntime, RuntimeFactory, RuntimeKind, RuntimeOptions } from './types';

/**
 * A fresh, unloaded runtime of `kind`.
 *
 * @example const runtime = createInProcessRuntime('onnx', { device: 'cpu' }); await runtime.load(dir, metadata);
 */
export const createInProcessRuntime: RuntimeFactory = (
  kind: RuntimeKind,
  options: RuntimeOptions,
): InferenceRuntime => {
  switch (kind) {
    case 'onnx':
      return new OnnxRuntime(options);
    case 'tfjs': {
      // Loaded only for RUNTIME=tfjs: TF.js and its wasm backend cost tens of MB in every runtime
      // thread, which the default ONNX Runtime path does not need.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { TfjsRuntime } = require('./tfjs') as typeof import('./tfjs');
      return new TfjsRuntime(options);
    }
    default:
      throw new Error(`unknown runtime "${String(kind)}"; expected onnx or tfjs`);
  }
};
