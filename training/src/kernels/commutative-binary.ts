/**
 * Multiply and Add for the wasm backend with the broadcast operand second. The stock kernels
 * are fast for full ⊙ [C] but take a slow generic path for [1,1,1,C] ⊙ full (measured 15x
 * slower), the order TF.js's Mean gradient uses. Both operations commute, so swapping is exact.
 */
import { Add, Multiply, util } from '@tensorflow/tfjs';
import type { BinaryInputs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { stockKernel } from './kernel-scope';

function commuted(kernelName: string): KernelFunc {
  return ((args: { inputs: BinaryInputs; backend: BackendWasm }) => {
    const a = args.inputs.a as TensorInfo;
    const b = args.inputs.b as TensorInfo;
    const swap = a.dtype === b.dtype && util.sizeFromShape(a.shape) < util.sizeFromShape(b.shape);
    const inputs = swap ? { a: b, b: a } : args.inputs;
    return stockKernel(kernelName).kernelFunc({ ...args, inputs } as never) as TensorInfo;
  }) as unknown as KernelFunc;
}

export const multiplyConfig: KernelConfig = {
  kernelName: Multiply,
  backendName: 'wasm',
  kernelFunc: commuted(Multiply),
};
export const addConfig: KernelConfig = { kernelName: Add, backendName: 'wasm', kernelFunc: commuted(Add) };
