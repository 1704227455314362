/**
 * Identity (clone, same-dtype Cast) for the wasm backend without a copy. The engine clones every
 * tensor a custom gradient saves (input, filter and output of each convolution) and Cast's
 * gradient clones dy; the stock wasm kernel copies each one. Tensors are immutable, so sharing
 * the buffer with a reference count is what the cpu backend does too.
 */
import { Identity } from '@tensorflow/tfjs';
import type { IdentityInputs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

function identity(args: { inputs: IdentityInputs; backend: BackendWasm }): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/** Replaces the stock wasm Identity. */
export const identityConfig: KernelConfig = {
  kernelName: Identity,
  backendName: 'wasm',
  kernelFunc: identity as unknown as KernelFunc,
};
