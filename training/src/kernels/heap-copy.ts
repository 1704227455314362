/**
 * Strided copies between tensors on the wasm heap (slices, crops). The stock wasm Slice first
 * copies the whole input out of the heap (readSync); these copy only what is kept, one
 * contiguous run at a time, with memmove (copyWithin).
 */
import { util } from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { emscripten } from './wasm-heap';

/**
 * Copies the box `begin`..`begin+size` of `src` into `dst` (shape `size`), any rank and dtype
 * except string.
 *
 * @example copyBox(backend, x, out, [0, 1, 1, 0], [8, 16, 16, 64]); // crop a 1-pixel border
 */
export function copyBox(
  backend: BackendWasm,
  src: TensorInfo,
  dst: TensorInfo,
  begin: readonly number[],
  size: readonly number[],
): void {
  const bytes = util.bytesPerElement(src.dtype);
  const shape = src.shape;
  const rank = shape.length;
  if (util.sizeFromShape(size as number[]) === 0) return;
  const strides = util.computeStrides(shape as number[]);
  // Trailing dimensions copied whole merge into one contiguous run.
  let runDim = rank - 1;
  while (runDim > 0 && size[runDim] === shape[runDim]) runDim--;
  const runElements = size.slice(runDim).reduce((a, b) => a * b, 1);
  const srcBase = backend.dataIdMap.get(src.dataId).memoryOffset >>> 0;
  const dstBase = backend.dataIdMap.get(dst.dataId).memoryOffset >>> 0;
  const heap = emscripten(backend).HEAPU8;
  const index = new Array<number>(runDim).fill(0);
  let to = dstBase;
  for (;;) {
    let offset = 0;
    for (let d = 0; d < rank; d++) offset += ((d < runDim ? index[d]! : 0) + begin[d]!) * (strides[d] ?? 1);
    const from = srcBase + offset * bytes;
    heap.copyWithin(to, from, from + runElements * bytes);
    to += runElements * bytes;
    // Odometer over the outer dimensions.
    let d = runDim - 1;
    while (d >= 0) {
      index[d] = index[d]! + 1;
      if (index[d]! < size[d]!) break;
      index[d] = 0;
      d--;
    }
    if (d < 0) return;
  }
}
