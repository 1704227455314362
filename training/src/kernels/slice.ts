/**
 * Slice for the wasm backend without the stock kernel's full copy of the input out of the heap.
 * Training calls it on every activation-sized gradient of a ZeroPadding2D layer (the padding
 * gradient is a crop) and of every DenseNet concatenation.
 */
import { Slice, slice_util } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, SliceAttrs, SliceInputs, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { copyRegion } from './heap-copy';
import { stockKernel } from './kernel-scope';

function slice(args: { inputs: SliceInputs; backend: BackendWasm; attrs: SliceAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  if (x.dtype === 'string') return stockKernel(Slice).kernelFunc(args as never) as TensorInfo;
  const [begin, size] = slice_util.parseSliceParams(x as never, attrs.begin, attrs.size);
  const out = backend.makeOutput(size, x.dtype);
  copyRegion(backend, x, begin, out, new Array<number>(size.length).fill(0), size);
  return out;
}

/** Replaces the stock wasm Slice. */
export const sliceConfig: KernelConfig = {
  kernelName: Slice,
  backendName: 'wasm',
  kernelFunc: slice as unknown as KernelFunc,
};
