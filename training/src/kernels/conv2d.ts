/**
 * Forward Conv2D / FusedConv2D for the wasm backend: Winograd for 3x3 stride-1 convolutions,
 * the direct SIMD matrix kernels otherwise. XNNPACK's convolution is about as fast per multiply
 * as the direct path but repacks the filter whenever the filter tensor is new, which in training
 * is every step (as costly as the convolution itself for a 64 px ResNet's deep layers). Anything
 * these paths do not cover (dilation, NCHW, a bias or an activation to fuse) goes to the stock kernel.
 */
import { Conv2D, FusedConv2D } from '@tensorflow/tfjs';
import type { Conv2DAttrs, FusedConv2DAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { convForward } from './conv-gemm';
import { padInput, planConv } from './conv-plan';
import { KernelScope, stockKernel } from './kernel-scope';
import { heapF32 } from './wasm-heap';
import { winogradApplies, winogradForward } from './winograd';

interface ConvInputs {
  x: TensorInfo;
  filter: TensorInfo;
}

function gemmConv(
  backend: BackendWasm,
  x: TensorInfo,
  filter: TensorInfo,
  attrs: Conv2DAttrs,
): TensorInfo | null {
  const plan = planConv(x.shape, filter.shape, attrs);
  if (!plan) return null;
  const scope = new KernelScope(backend);
  try {
    const input = padInput(scope, x, plan);
    const y = backend.makeOutput(plan.outShape, 'float32');
    const pass = winogradApplies(plan.conv) ? winogradForward : convForward;
    pass(
      backend,
      plan.conv,
      heapF32(backend, input).offset * 4,
      heapF32(backend, filter).offset * 4,
      heapF32(backend, y).offset * 4,
    );
    return y;
  } finally {
    scope.dispose();
  }
}

function conv2d(args: { inputs: ConvInputs; backend: BackendWasm; attrs: Conv2DAttrs }): TensorInfo {
  const { x, filter } = args.inputs;
  return (
    gemmConv(args.backend, x, filter, args.attrs) ??
    (stockKernel(Conv2D).kernelFunc(args as never) as TensorInfo)
  );
}

function fusedConv2d(args: {
  inputs: ConvInputs & { bias?: TensorInfo | null; preluActivationWeights?: TensorInfo | null };
  backend: BackendWasm;
  attrs: FusedConv2DAttrs;
}): TensorInfo {
  const { x, filter, bias, preluActivationWeights } = args.inputs;
  // Absent optional inputs arrive as undefined or null depending on the caller.
  const plain = !bias && !preluActivationWeights && args.attrs.activation === 'linear';
  const y = plain ? gemmConv(args.backend, x, filter, args.attrs) : null;
  return y ?? (stockKernel(FusedConv2D).kernelFunc(args as never) as TensorInfo);
}

export const conv2DConfig: KernelConfig = {
  kernelName: Conv2D,
  backendName: 'wasm',
  kernelFunc: conv2d as unknown as KernelFunc,
};

export const fusedConv2DConfig: KernelConfig = {
  kernelName: FusedConv2D,
  backendName: 'wasm',
  kernelFunc: fusedConv2d as unknown as KernelFunc,
};
