/**
 * A faster gradient for FusedBatchNorm on the wasm backend. TF.js's gradient tiles the
 * per-channel factor to the full activation shape and makes five separate reductions; this one
 * gets both per-channel sums it needs (Σdy and Σdy·(x−mean)) from one SIMD pass and scales dy
 * with a broadcast multiply. Other backends keep TF.js's own gradient.
 */
import * as tf from '@tensorflow/tfjs';
import type { FusedBatchNormAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { simdKernels } from './simd/simd-module';
import type { WasmGradFunc } from './wasm-gradient';
import { heapF32 } from './wasm-heap';

/** Our kernel: [2, C] = [Σdy, Σdy·(x − mean)] over every axis but the last. */
export const BATCH_NORM_GRAD_SUMS = 'FerBatchNormGradSums';

function batchNormGradSums(args: {
  inputs: { dy: TensorInfo; x: TensorInfo; mean: TensorInfo };
  backend: BackendWasm;
}): TensorInfo {
  const { inputs, backend } = args;
  const channels = inputs.mean.shape[0];
  const rows = tf.util.sizeFromShape(inputs.x.shape) / channels;
  const out = backend.makeOutput([2, channels], 'float32');
  const { heap, offset } = heapF32(backend, out);
  heap.fill(0, offset, offset + 2 * channels);
  simdKernels(backend).bn_grad_sums(
    rows,
    channels,
    heapF32(backend, inputs.dy).offset * 4,
    heapF32(backend, inputs.x).offset * 4,
    heapF32(backend, inputs.mean).offset * 4,
    offset * 4,
  );
  return out;
}

export const batchNormGradSumsConfig: KernelConfig = {
  kernelName: BATCH_NORM_GRAD_SUMS,
  backendName: 'wasm',
  kernelFunc: batchNormGradSums as unknown as KernelFunc,
};

/**
 * The math of TF.js's FusedBatchNorm gradient, with per-channel factors broadcast instead of
 * tiled; null (TF.js's gradient) unless the statistics are per last-axis channel.
 */
export const batchNormGradient: WasmGradFunc = (dy, saved, attrs) => {
  const [x, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D | undefined];
  if (mean === undefined || mean.rank !== 1 || x.shape[x.rank - 1] !== mean.shape[0]) return null;
  const { varianceEpsilon } = attrs as unknown as FusedBatchNormAttrs;
  const rstd = tf.rsqrt(tf.add(variance, varianceEpsilon));
  const gain = scale ? tf.mul(rstd, scale) : rstd;
  const sums = tf.engine().runKernel(BATCH_NORM_GRAD_SUMS, { dy, x, mean }, {}) as tf.Tensor2D;
  const [sumDy, sumDyCentered] = tf.unstack(sums) as [tf.Tensor1D, tf.Tensor1D];
  return {
    x: () => tf.mul(dy, gain),
    mean: () => tf.neg(tf.mul(gain, sumDy)),
    variance: () => tf.mul(tf.mul(gain, tf.square(rstd)), tf.mul(sumDyCentered, -0.5)),
    scale: () => tf.mul(rstd, sumDyCentered),
    offset: () => sumDy.clone(),
  };
};
