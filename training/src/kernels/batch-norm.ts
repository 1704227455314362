/**
 * FusedBatchNorm (forward) for the wasm backend: per-channel statistics and parameters, one SIMD
 * pass. The stock kernel is a scalar loop and was the largest non-convolution kernel of a ResNet
 * step. Other layouts (statistics not per last-axis channel) go to the stock kernel.
 */
import { FusedBatchNorm, util } from '@tensorflow/tfjs';
import type {
  FusedBatchNormAttrs,
  FusedBatchNormInputs,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { stockKernel } from './kernel-scope';
import { HeapScratch, simdKernels } from './simd/simd-module';
import { emscripten, heapF32 } from './wasm-heap';

function batchNorm(args: {
  inputs: FusedBatchNormInputs;
  backend: BackendWasm;
  attrs: FusedBatchNormAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const channels = x.shape[x.shape.length - 1];
  const perChannel = [inputs.mean, inputs.variance, inputs.offset, inputs.scale].every(
    (t) => !t || ((t as TensorInfo).shape.length === 1 && (t as TensorInfo).shape[0] === channels),
  );
  if (x.dtype !== 'float32' || !perChannel)
    return stockKernel(FusedBatchNorm).kernelFunc(args as never) as TensorInfo;
  // Views of the [C] parameters; read before any allocation can move the heap.
  const vector = (t: unknown) => {
    if (!t) return null;
    const { heap, offset } = heapF32(backend, t as TensorInfo);
    return heap.subarray(offset, offset + channels);
  };
  const variance = vector(inputs.variance)!;
  const offset = vector(inputs.offset);
  const scale = vector(inputs.scale);
  const gain = new Float32Array(channels);
  const shift = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    gain[c] = (scale ? scale[c] : 1) / Math.sqrt(variance[c] + attrs.varianceEpsilon);
    shift[c] = offset ? offset[c] : 0;
  }
  const out = backend.makeOutput([...x.shape], 'float32');
  const scratch = new HeapScratch(backend);
  try {
    const gainAt = scratch.alloc(channels * 4);
    const shiftAt = scratch.alloc(channels * 4);
    const heap = emscripten(backend).HEAPF32;
    heap.set(gain, gainAt >>> 2);
    heap.set(shift, shiftAt >>> 2);
    simdKernels(backend).channel_affine(
      util.sizeFromShape(x.shape) / channels,
      channels,
      heapF32(backend, x).offset * 4,
      heapF32(backend, inputs.mean as TensorInfo).offset * 4,
      gainAt,
      shiftAt,
      heapF32(backend, out).offset * 4,
    );
  } finally {
    scratch.free();
  }
  return out;
}

/** Replaces the stock wasm FusedBatchNorm. */
export const batchNormConfig: KernelConfig = {
  kernelName: FusedBatchNorm,
  backendName: 'wasm',
  kernelFunc: batchNorm as unknown as KernelFunc,
};
