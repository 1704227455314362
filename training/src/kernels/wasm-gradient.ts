/**
 * Gradient functions are registered per kernel name for every backend at once. This installs
 * a replacement that applies only while the wasm backend is active (and only where it says it
 * applies), and otherwise calls TF.js's own gradient, so the cpu backend keeps computing exactly
 * what it always did and stays a fair reference in the parity tests.
 */
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap } from '@tensorflow/tfjs';

/** Returns the input gradients, or null to defer to TF.js's gradient. */
export type WasmGradFunc = (
  dy: tf.Tensor,
  saved: tf.Tensor[],
  attrs: NamedAttrMap,
) => Record<string, () => tf.Tensor> | null;

const installed = new Map<string, GradConfig>();

/**
 * Wraps the registered gradient of `kernelName`. Idempotent per kernel name.
 *
 * @example installWasmGradient('Mean', (dy, [x], attrs) => null);
 */
export function installWasmGradient(kernelName: string, gradient: WasmGradFunc): void {
  const current = tf.getGradient(kernelName);
  if (!current || current === installed.get(kernelName)) return;
  const stock = current;
  const config: GradConfig = {
    kernelName,
    inputsToSave: stock.inputsToSave,
    outputsToSave: stock.outputsToSave,
    saveAllInputs: stock.saveAllInputs,
    gradFunc: (dy, saved, attrs) => {
      const fast = tf.getBackend() === 'wasm' && !Array.isArray(dy) ? gradient(dy, saved, attrs) : null;
      return fast ?? stock.gradFunc(dy, saved, attrs);
    },
  };
  installed.set(kernelName, config);
  tf.registerGradient(config);
}
