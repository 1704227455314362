/**
 * Sum and Mean over the leading axes of a float32 tensor (per-channel statistics of NHWC
 * activations: BatchNorm's moments, bias and BatchNorm-parameter gradients) as one SIMD pass.
 * The stock wasm kernels transpose the whole tensor first. Other reductions go to the stock kernels.
 */
import { Mean, Sum, util } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, MeanAttrs, SumAttrs, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { stockKernel } from './kernel-scope';
import { simdKernels } from './simd/simd-module';
import { emscripten, heapF32 } from './wasm-heap';

type ReduceArgs = { inputs: { x: TensorInfo }; backend: BackendWasm; attrs: SumAttrs | MeanAttrs };

/** Number of leading axes reduced, or 0 when `axis` is not a proper leading prefix. */
function leadingAxesCount(shape: readonly number[], axis: number | number[]): number {
  const axes = [...util.parseAxisParam(axis, shape as number[])].sort((a, b) => a - b);
  const prefix = axes.every((a, i) => a === i);
  return prefix && axes.length < shape.length ? axes.length : 0;
}

/**
 * Column sums of `x` viewed as [rows, channels], divided by `divisor`; null when not applicable.
 *
 * @example reduceLeading(backend, x, [0, 1, 2], false, 1); // per-channel sums of an NHWC tensor
 */
export function reduceLeading(
  backend: BackendWasm,
  x: TensorInfo,
  axis: number | number[],
  keepDims: boolean,
  divisor: number | 'rows',
): TensorInfo | null {
  if (x.dtype !== 'float32') return null;
  const count = leadingAxesCount(x.shape, axis);
  if (count === 0) return null;
  const rows = util.sizeFromShape(x.shape.slice(0, count));
  const channels = util.sizeFromShape(x.shape.slice(count));
  const outShape = keepDims ? [...x.shape.map((d, i) => (i < count ? 1 : d))] : x.shape.slice(count);
  const out = backend.makeOutput(outShape, 'float32');
  const { heap, offset } = heapF32(backend, out);
  heap.fill(0, offset, offset + channels);
  if (rows > 0) simdKernels(backend).column_sums(rows, channels, heapF32(backend, x).offset * 4, offset * 4);
  const scale = divisor === 'rows' ? rows : divisor;
  if (scale !== 1) {
    const view = emscripten(backend).HEAPF32;
    for (let c = 0; c < channels; c++) view[offset + c] = view[offset + c] / scale;
  }
  return out;
}

function sum(args: ReduceArgs): TensorInfo {
  const { axis, keepDims } = args.attrs;
  return (
    reduceLeading(args.backend, args.inputs.x, axis, keepDims, 1) ??
    (stockKernel(Sum).kernelFunc(args as never) as TensorInfo)
  );
}

function mean(args: ReduceArgs): TensorInfo {
  const { axis, keepDims } = args.attrs;
  return (
    reduceLeading(args.backend, args.inputs.x, axis, keepDims, 'rows') ??
    (stockKernel(Mean).kernelFunc(args as never) as TensorInfo)
  );
}

export const sumConfig: KernelConfig = {
  kernelName: Sum,
  backendName: 'wasm',
  kernelFunc: sum as unknown as KernelFunc,
};
export const meanConfig: KernelConfig = {
  kernelName: Mean,
  backendName: 'wasm',
  kernelFunc: mean as unknown as KernelFunc,
};
