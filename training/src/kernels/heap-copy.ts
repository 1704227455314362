/**
 * Strided copies between tensors on the wasm heap (slices, crops, padding). The stock wasm Slice
 * first copies the whole input out of the heap (readSync); these copy only the region, one
 * contiguous run at a time, with memmove (copyWithin).
 */
import { util } from '@tensorflow/tfjs';
import type { TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { emscripten } from './wasm-heap';

/**
 * Copies the box of extent `size` at `srcBegin` in `src` to `dstBegin` in `dst` (same rank and
 * dtype, any dtype but string).
 *
 * @example copyRegion(backend, x, [0, 1, 1, 0], out, [0, 0, 0, 0], [8, 16, 16, 64]); // crop a border
 */
export function copyRegion(
  backend: BackendWasm,
  src: TensorInfo,
  srcBegin: readonly number[],
  dst: TensorInfo,
  dstBegin: readonly number[],
  size: readonly number[],
): void {
  const rank = size.length;
  if (util.sizeFromShape(size as number[]) === 0) return;
  const bytes = util.bytesPerElement(src.dtype);
  const srcStrides = [...util.computeStrides(src.shape as number[]), 1];
  const dstStrides = [...util.computeStrides(dst.shape as number[]), 1];
  // Trailing dimensions copied whole on both sides merge into one contiguous run.
  let runDim = rank - 1;
  while (runDim > 0 && size[runDim] === src.shape[runDim] && size[runDim] === dst.shape[runDim]) runDim--;
  const runBytes = size.slice(runDim).reduce((a, b) => a * b, 1) * bytes;
  const srcBase = backend.dataIdMap.get(src.dataId).memoryOffset >>> 0;
  const dstBase = backend.dataIdMap.get(dst.dataId).memoryOffset >>> 0;
  const heap = emscripten(backend).HEAPU8;
  const index = new Array<number>(runDim).fill(0);
  for (;;) {
    let from = 0;
    let to = 0;
    for (let d = 0; d < rank; d++) {
      const i = d < runDim ? index[d] : 0;
      from += (i + srcBegin[d]) * srcStrides[d];
      to += (i + dstBegin[d]) * dstStrides[d];
    }
    heap.copyWithin(dstBase + to * bytes, srcBase + from * bytes, srcBase + from * bytes + runBytes);
    // Odometer over the outer dimensions.
    let d = runDim - 1;
    while (d >= 0) {
      index[d] = index[d] + 1;
      if (index[d] < size[d]) break;
      index[d] = 0;
      d--;
    }
    if (d < 0) return;
  }
}
