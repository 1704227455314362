/**
 * The kernels that make the wasm backend train our backbones quickly (DESIGN §6: the wasm
 * backend serves training when tfjs-node is absent). Registering is global and idempotent.
 */
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs';
import type { KernelConfig } from '@tensorflow/tfjs';

import { adamwUpdateConfig, sumOfSquaresConfig } from './adamw-update';
import { batchNormConfig } from './batch-norm';
import { batchNormGradient, batchNormGradSumsConfig } from './batch-norm-grad';
import { castConfig } from './cast';
import { addConfig, multiplyConfig } from './commutative-binary';
import { conv2DConfig, fusedConv2DConfig } from './conv2d';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input';
import { identityConfig } from './identity';
import { captureStockKernel } from './kernel-scope';
import { meanConfig, sumConfig } from './leading-axes-reduce';
import { maxPoolGradConfig } from './max-pool-grad';
import { broadcastRowsConfig, meanGradient } from './mean-grad';
import { padConfig } from './pad';
import { sliceConfig } from './slice';
import { installWasmGradient } from './wasm-gradient';

export { adamwUpdate, sumOfSquares, type AdamWStep } from './adamw-update';

/** Every kernel this folder adds to (or replaces in) the wasm backend. */
export const WASM_TRAINING_KERNELS: readonly KernelConfig[] = [
  // Convolutions: the wasm backend has no Conv2DBackpropFilter (tfjs #8474) and slow or
  // repacking versions of the others.
  conv2DConfig,
  fusedConv2DConfig,
  conv2DBackpropInputConfig,
  conv2DBackpropFilterConfig,
  // BatchNorm: forward, and our gradient's per-channel sums (see batch-norm-grad.ts).
  batchNormConfig,
  batchNormGradSumsConfig,
  sumConfig,
  meanConfig,
  broadcastRowsConfig,
  // Pooling, padding and data movement the backward pass does on every activation.
  maxPoolGradConfig,
  padConfig,
  sliceConfig,
  identityConfig,
  castConfig,
  multiplyConfig,
  addConfig,
  // The optimizer's update and gradient norm, fused (see adamw-update.ts).
  adamwUpdateConfig,
  sumOfSquaresConfig,
];

/**
 * Registers the training kernels for the wasm backend, replacing stock ones of the same name.
 *
 * @example registerWasmTrainingKernels(); // then tf.setBackend('wasm') trains convolutions fast
 */
export function registerWasmTrainingKernels(): void {
  for (const config of WASM_TRAINING_KERNELS) {
    const current = getKernel(config.kernelName, 'wasm');
    if (current === config) continue;
    captureStockKernel(config.kernelName);
    if (current) unregisterKernel(config.kernelName, 'wasm');
    registerKernel(config);
  }
  // Gradients are registered for every backend; these apply only while wasm is active.
  installWasmGradient('FusedBatchNorm', batchNormGradient);
  installWasmGradient('Mean', meanGradient);
}
