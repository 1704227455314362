/**
 * Conv2DBackpropFilter for the wasm backend, which has none (tfjs issue 8474): per filter row,
 * one SIMD matrix product of the input patches (read in place, transposed) with dy.
 */
import { Conv2DBackpropFilter } from '@tensorflow/tfjs';
import type {
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropFilterInputs,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { convFilterGrad } from './conv-gemm';
import { padInput, planConv } from './conv-plan';
import { KernelScope } from './kernel-scope';
import { heapF32 } from './wasm-heap';
import { winogradApplies, winogradFilterGrad } from './winograd';

function conv2DBackpropFilter(args: {
  inputs: Conv2DBackpropFilterInputs;
  backend: BackendWasm;
  attrs: Conv2DBackpropFilterAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const plan = planConv(x.shape, attrs.filterShape, attrs);
  if (!plan) throw new Error('the wasm Conv2DBackpropFilter supports NHWC, undilated convolutions only');
  const scope = new KernelScope(backend);
  try {
    const input = padInput(scope, x, plan);
    const dw = backend.makeOutput([...attrs.filterShape], 'float32');
    const pass = winogradApplies(plan.conv) ? winogradFilterGrad : convFilterGrad;
    pass(
      backend,
      plan.conv,
      heapF32(backend, input).offset * 4,
      heapF32(backend, dy).offset * 4,
      heapF32(backend, dw).offset * 4,
    );
    return dw;
  } finally {
    scope.dispose();
  }
}

/** The Conv2DBackpropFilter the wasm backend lacks. */
export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};
