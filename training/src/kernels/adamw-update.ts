/**
 * The AdamW update of one variable and the sum of squares behind gradient clipping, as ops that
 * run one fused SIMD pass on the wasm backend and the same math op by op elsewhere. On wasm the
 * op-by-op update reads and writes the weights' size about fourteen times; for a 64 px resnet18
 * that was a tenth of a training step.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { simdKernels } from './simd/simd-module';
import { heapF32 } from './wasm-heap';

const ADAMW_UPDATE = 'FerAdamWUpdate';
const SUM_OF_SQUARES = 'FerSumOfSquares';

export interface AdamWStep {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  /** 1-based step count of this variable, for the bias corrections. */
  step: number;
  /** Factor applied to the gradient first (global-norm clipping), 1 for none. */
  gradScale: number;
}

function onWasm(kernelName: string): boolean {
  return tf.getBackend() === 'wasm' && tf.getKernel(kernelName, 'wasm') !== undefined;
}

/**
 * New (param, m, v) after one AdamW step: p·(1 − lr·wd) − lr·m̂/(√v̂ + ε) with decoupled weight decay.
 *
 * @example const [p, m, v] = adamwUpdate(variable, grad, slot.m, slot.v, { lr: 1e-3, beta1: 0.9, ... });
 */
export function adamwUpdate(
  param: tf.Tensor,
  grad: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  step: AdamWStep,
): [tf.Tensor, tf.Tensor, tf.Tensor] {
  if (onWasm(ADAMW_UPDATE)) {
    const attrs = { ...step };
    return tf.engine().runKernel(ADAMW_UPDATE, { param, grad, m, v }, attrs) as [
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
    ];
  }
  return tf.tidy(() => {
    const { lr, beta1, beta2, epsilon, weightDecay, gradScale } = step;
    const g = gradScale === 1 ? grad : grad.mul(gradScale);
    const newM = m.mul(beta1).add(g.mul(1 - beta1));
    const newV = v.mul(beta2).add(g.square().mul(1 - beta2));
    const mHat = newM.div(1 - beta1 ** step.step);
    const vHat = newV.div(1 - beta2 ** step.step);
    const decayed = weightDecay > 0 ? param.mul(1 - lr * weightDecay) : param;
    return [decayed.sub(mHat.div(vHat.sqrt().add(epsilon)).mul(lr)), newM, newV];
  });
}

/**
 * Σ x² as a scalar.
 *
 * @example const norm = Math.sqrt(grads.reduce((s, g) => s + sumOfSquares(g).dataSync()[0], 0));
 */
export function sumOfSquares(x: tf.Tensor): tf.Scalar {
  if (onWasm(SUM_OF_SQUARES) && x.dtype === 'float32') {
    return tf.engine().runKernel(SUM_OF_SQUARES, { x }, {}) as tf.Scalar;
  }
  return tf.tidy(() => tf.sum(tf.square(x)));
}

function adamwKernel(args: {
  inputs: { param: TensorInfo; grad: TensorInfo; m: TensorInfo; v: TensorInfo };
  backend: BackendWasm;
  attrs: AdamWStep;
}): TensorInfo[] {
  const { inputs, backend, attrs } = args;
  const shape = [...inputs.param.shape];
  const outputs = [0, 1, 2].map(() => backend.makeOutput(shape, 'float32'));
  const at = (info: TensorInfo) => heapF32(backend, info).offset * 4;
  const { lr, beta1, beta2, epsilon, weightDecay, step, gradScale } = attrs;
  simdKernels(backend).adamw(
    tf.util.sizeFromShape(shape),
    ...[inputs.param, inputs.grad, inputs.m, inputs.v, ...outputs].map(at),
    // The same float32 constants the op-by-op update builds (each computed in double first).
    ...[gradScale, beta1, 1 - beta1, beta2, 1 - beta2, 1 - beta1 ** step, 1 - beta2 ** step],
    ...[weightDecay > 0 ? 1 - lr * weightDecay : 1, lr, epsilon],
  );
  return outputs;
}

function sumOfSquaresKernel(args: { inputs: { x: TensorInfo }; backend: BackendWasm }): TensorInfo {
  const { inputs, backend } = args;
  const out = backend.makeOutput([], 'float32');
  const count = tf.util.sizeFromShape(inputs.x.shape);
  simdKernels(backend).sum_squares(
    count,
    heapF32(backend, inputs.x).offset * 4,
    heapF32(backend, out).offset * 4,
  );
  return out;
}

export const adamwUpdateConfig: KernelConfig = {
  kernelName: ADAMW_UPDATE,
  backendName: 'wasm',
  kernelFunc: adamwKernel as unknown as KernelFunc,
};

export const sumOfSquaresConfig: KernelConfig = {
  kernelName: SUM_OF_SQUARES,
  backendName: 'wasm',
  kernelFunc: sumOfSquaresKernel as unknown as KernelFunc,
};
