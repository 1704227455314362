/**
 * Conv2DBackpropInput for the wasm backend: one SIMD matrix product per filter tap, scattered
 * straight into dx (see conv-gemm.ts). The stock kernel is a scalar loop, and a transposed
 * convolution through XNNPACK wastes work on the zero padding of small feature maps and repacks
 * the filter on every call.
 */
import { Conv2DBackpropInput } from '@tensorflow/tfjs';
import type {
  Conv2DBackpropInputAttrs,
  Conv2DBackpropInputInputs,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { convInputGrad } from './conv-gemm';
import { isPadded, planConv } from './conv-plan';
import { copyRegion } from './heap-copy';
import { stockKernel } from './kernel-scope';
import { heapF32 } from './wasm-heap';

function conv2DBackpropInput(args: {
  inputs: Conv2DBackpropInputInputs;
  backend: BackendWasm;
  attrs: Conv2DBackpropInputAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const plan = planConv(attrs.inputShape, filter.shape, attrs);
  // NCHW and the like: the stock kernel covers them (slowly).
  if (!plan) return stockKernel(Conv2DBackpropInput).kernelFunc(args as never) as TensorInfo;
  const { conv } = plan;
  const padded = isPadded(plan);
  const paddedShape = [conv.batch, conv.inHeight, conv.inWidth, conv.inChannels];
  const dxPadded = backend.makeOutput(paddedShape, 'float32');
  const { heap, offset: dxOffset } = heapF32(backend, dxPadded);
  heap.fill(0, dxOffset, dxOffset + paddedShape.reduce((a, b) => a * b, 1));
  convInputGrad(
    backend,
    conv,
    heapF32(backend, dy).offset * 4,
    heapF32(backend, filter).offset * 4,
    dxOffset * 4,
  );
  if (!padded) return dxPadded;
  // The gradient of the padding itself is dropped.
  const dx = backend.makeOutput(plan.inShape, 'float32');
  copyRegion(
    backend,
    dxPadded,
    [0, plan.padding[0][0], plan.padding[1][0], 0],
    dx,
    [0, 0, 0, 0],
    plan.inShape,
  );
  backend.disposeData(dxPadded.dataId);
  return dx;
}

/** Replaces the stock wasm Conv2DBackpropInput. */
export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput as unknown as KernelFunc,
};
