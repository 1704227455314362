/**
 * The production wiring of runtimes: the app receives this factory through buildApp's options
 * (tests may pass their own) and asks it for one runtime per loaded version.
 */
import { OnnxRuntime } from './onnx';
import type { InferenceRuntime, RuntimeFactory, RuntimeKind, RuntimeOptions } from './types';

/**
 * A fresh, unloaded runtime of `kind`.
 *
 * @example const runtime = createRuntime('onnx', { device: 'cpu' }); await runtime.load(dir, metadata);
 */
export const createRuntime: RuntimeFactory = (
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
