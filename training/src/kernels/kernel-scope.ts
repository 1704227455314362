/**
 * Our kernels call other wasm kernels (padding an input) and fall back to the stock ones for
 * cases they do not cover. This keeps the stock kernels reachable after ours replace them, and a
 * scope that runs kernels directly, outside the engine's tape, freeing every intermediate it
 * made so a composite kernel cannot leak wasm heap.
 */
import { getKernel } from '@tensorflow/tfjs';
import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** Kernels of the stock wasm backend, captured before ours replace any of them. */
const stockKernels = new Map<string, ReturnType<typeof getKernel>>();

/**
 * Remembers the wasm backend's own kernel for `kernelName` (call before registering a replacement).
 *
 * @example captureStockKernel('Slice');
 */
export function captureStockKernel(kernelName: string): void {
  if (!stockKernels.has(kernelName)) stockKernels.set(kernelName, getKernel(kernelName, 'wasm'));
}

/**
 * The wasm backend's own kernel for `kernelName` (ours may have replaced it in the registry).
 *
 * @example stockKernel('Conv2D').kernelFunc({ inputs, attrs, backend });
 */
export function stockKernel(kernelName: string) {
  const kernel = stockKernels.get(kernelName) ?? getKernel(kernelName, 'wasm');
  if (!kernel) throw new Error(`wasm backend has no ${kernelName} kernel`);
  return kernel;
}

/**
 * Tracks the intermediate tensors of one composite kernel call.
 *
 * @example
 * const scope = new KernelScope(backend);
 * try {
 *   const t = scope.run('Transpose', { x }, { perm: [1, 0] });
 *   return scope.keep(scope.run('Reshape', { x: t }, { shape: [-1] }));
 * } finally {
 *   scope.dispose();
 * }
 */
export class KernelScope {
  private readonly temporaries: TensorInfo[] = [];

  constructor(readonly backend: BackendWasm) {}

  /**
   * Runs the wasm kernel currently registered for `kernelName` (ours where we replaced one);
   * its output is freed by `dispose()` unless passed to `keep()`.
   */
  run(kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    const kernel = getKernel(kernelName, 'wasm');
    if (!kernel) throw new Error(`wasm backend has no ${kernelName} kernel`);
    const out = kernel.kernelFunc({ inputs, attrs, backend: this.backend });
    if (Array.isArray(out)) throw new Error(`${kernelName} returned several outputs`);
    return this.track(out);
  }

  /** Registers a tensor made by hand (`backend.makeOutput`) for disposal. */
  track(info: TensorInfo): TensorInfo {
    this.temporaries.push(info);
    return info;
  }

  /** Takes a tensor out of the scope: the caller (the engine) owns it now. */
  keep(info: TensorInfo): TensorInfo {
    const index = this.temporaries.indexOf(info);
    if (index >= 0) this.temporaries.splice(index, 1);
    return info;
  }

  dispose(): void {
    // Reshape-like kernels share a dataId with their input and bump its refCount, so each
    // tracked output releases exactly one reference.
    for (const info of this.temporaries.splice(0)) this.backend.disposeData(info.dataId);
  }
}
