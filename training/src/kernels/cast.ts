/**
 * Cast for the wasm backend without a copy when the dtype does not change: TF.js's moments()
 * casts every BatchNorm input to float32, which is already its dtype, and the stock kernel
 * copies the tensor each time. Real conversions go to the stock kernel.
 */
import { Cast } from '@tensorflow/tfjs';
import type { CastAttrs, CastInputs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { stockKernel } from './kernel-scope';

function cast(args: { inputs: CastInputs; backend: BackendWasm; attrs: CastAttrs }): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  if (x.dtype !== args.attrs.dtype) return stockKernel(Cast).kernelFunc(args as never) as TensorInfo;
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/** Replaces the stock wasm Cast. */
export const castConfig: KernelConfig = {
  kernelName: Cast,
  backendName: 'wasm',
  kernelFunc: cast as unknown as KernelFunc,
};
