/**
 * MaxPoolGrad for the wasm backend, in place on the heap. The stock kernel took longer than the
 * rest of a ResNet stem's backward pass. Each output's gradient goes to the first maximum of its
 * window in row-major order, the cpu backend's rule, so both backends route ties the same way.
 */
import { backend_util, MaxPoolGrad } from '@tensorflow/tfjs';
import type {
  KernelConfig,
  KernelFunc,
  MaxPoolGradAttrs,
  MaxPoolGradInputs,
  TensorInfo,
} from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { simdKernels } from './simd/simd-module';
import { heapF32 } from './wasm-heap';

function maxPoolGrad(args: {
  inputs: MaxPoolGradInputs;
  backend: BackendWasm;
  attrs: MaxPoolGradAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = inputs.dy as TensorInfo;
  const x = inputs.input as TensorInfo;
  const info = backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  const dx = backend.makeOutput([...x.shape], 'float32');
  const { heap, offset: dxBase } = heapF32(backend, dx);
  const xBase = heapF32(backend, x).offset;
  const dyBase = heapF32(backend, dy).offset;
  heap.fill(0, dxBase, dxBase + batchSize * inHeight * inWidth * channels);
  const { bottom, right } = info.padInfo;
  if (channels % 4 === 0 && top === 0 && left === 0 && bottom === 0 && right === 0) {
    // The backbones pad explicitly (ZeroPadding2D) and pool 'valid': four channels per SIMD step.
    simdKernels(backend).max_pool_grad(
      ...[batchSize, inHeight, inWidth, channels, outHeight, outWidth, filterHeight, filterWidth],
      ...[strideHeight, strideWidth, xBase * 4, dyBase * 4, dxBase * 4],
    );
    return dx;
  }
  const rowStride = inWidth * channels;
  let dyIndex = dyBase;
  for (let n = 0; n < batchSize; n++) {
    const image = n * inHeight * rowStride;
    for (let oh = 0; oh < outHeight; oh++) {
      const r0 = Math.max(0, oh * strideHeight - top);
      const r1 = Math.min(inHeight, oh * strideHeight - top + filterHeight);
      for (let ow = 0; ow < outWidth; ow++) {
        const c0 = Math.max(0, ow * strideWidth - left);
        const c1 = Math.min(inWidth, ow * strideWidth - left + filterWidth);
        for (let ch = 0; ch < channels; ch++) {
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          for (let r = r0; r < r1; r++) {
            let p = image + r * rowStride + c0 * channels + ch;
            for (let c = c0; c < c1; c++, p += channels) {
              const value = heap[xBase + p];
              if (value > best) {
                best = value;
                at = p;
              }
            }
          }
          if (at >= 0) heap[dxBase + at] += heap[dyIndex];
          dyIndex++;
        }
      }
    }
  }
  return dx;
}

/** Replaces the stock wasm MaxPoolGrad. */
export const maxPoolGradConfig: KernelConfig = {
  kernelName: MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as KernelFunc,
};
