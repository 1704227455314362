/**
 * The three passes of a 'valid', undilated NHWC convolution (forward, input gradient, filter
 * gradient) as calls of the SIMD matrix kernels on heap offsets. Padding is handled by the
 * callers (they pad the input first), which is free for our backbones: they pad with their own
 * ZeroPadding2D layers and convolve 'valid'.
 *
 * With P = N·OH·OW output pixels and pix[p] the offset of the input patch's top-left corner:
 * - forward   y[p, co]        = Σ_kh Σ_(kw,ci) x[pix[p] + kh·row + (kw,ci)] · W[kh, (kw,ci), co]
 * - input     dx[pix[p] + tap] += Σ_co dy[p, co] · W[tap, ci, co]        (one call per tap: no overlap)
 * - filter    dW[kh, (kw,ci), co] = Σ_p x[pix[p] + kh·row + (kw,ci)] · dy[p, co]
 * A kernel row (kw, ci) is contiguous in NHWC, so each kh contributes one dense matrix product.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { HeapScratch, simdKernels, type SimdKernels } from './simd/simd-module';
import { emscripten } from './wasm-heap';

/** Shapes of a valid convolution (input already padded). */
export interface ValidConv {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  filterHeight: number;
  filterWidth: number;
  outChannels: number;
  strideHeight: number;
  strideWidth: number;
  outHeight: number;
  outWidth: number;
}

/**
 * Largest shared dimension per gemm_nn call: keeps the streamed B block (K x N floats) in the
 * 1 MiB L2 of the machines we measured; unblocked K thrashed it (measured: 10 vs 30 GF/s).
 */
const K_BLOCK = 256;

/**
 * Largest shared dimension (pixels) per gemm_tn call: its A rows are 16-byte slivers of distinct
 * cache lines, which must stay in the 32 KiB L1 next to B's lines (measured ~15% faster than 256).
 */
const PIXEL_BLOCK = 64;

/** Byte offsets (relative to the input) of each output pixel's patch corner, row-major over (n, oh, ow). */
export function patchOffsets(conv: ValidConv): Int32Array {
  const { batch, inHeight, inWidth, inChannels, outHeight, outWidth, strideHeight, strideWidth } = conv;
  const table = new Int32Array(batch * outHeight * outWidth);
  let p = 0;
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const rowStart = (n * inHeight + oh * strideHeight) * inWidth;
      for (let ow = 0; ow < outWidth; ow++) table[p++] = (rowStart + ow * strideWidth) * inChannels * 4;
    }
  }
  return table;
}

/** Offsets of consecutive rows of `rowBytes` bytes. */
export function denseRows(rows: number, rowBytes: number): Int32Array {
  const table = new Int32Array(rows);
  for (let r = 0; r < rows; r++) table[r] = r * rowBytes;
  return table;
}

/**
 * C (+)= A·B with A's `rows` rows at `aRows` (byte offsets from `a`), B dense [depth × cols] at `b`
 * and C's rows at `cRows` (from `c`), in K_BLOCK slices of the shared dimension: A's columns and
 * B's rows advance together. `accumulate` adds the first slice onto C too; later slices always do.
 */
export function blockedProduct(
  kernels: SimdKernels,
  [rows, cols, depth]: [number, number, number],
  aRows: number,
  a: number,
  b: number,
  cRows: number,
  c: number,
  accumulate: boolean,
): void {
  for (let k0 = 0; k0 < depth; k0 += K_BLOCK) {
    const k = Math.min(K_BLOCK, depth - k0);
    kernels.gemm_nn(
      rows,
      cols,
      k,
      aRows,
      a + k0 * 4,
      b + k0 * cols * 4,
      cols * 4,
      cRows,
      c,
      accumulate || k0 > 0 ? 1 : 0,
    );
  }
}

function outputPixels(conv: ValidConv): number {
  return conv.batch * conv.outHeight * conv.outWidth;
}

/**
 * y = conv(x, W). All arguments after `conv` are heap byte offsets; y is fully overwritten.
 *
 * @example convForward(backend, conv, xOffset, filterOffset, yOffset);
 */
export function convForward(
  backend: BackendWasm,
  conv: ValidConv,
  x: number,
  filter: number,
  y: number,
): void {
  const { inWidth, inChannels, filterHeight, filterWidth, outChannels } = conv;
  const kernels = simdKernels(backend);
  const scratch = new HeapScratch(backend);
  try {
    const pixels = outputPixels(conv);
    const patches = scratch.table(patchOffsets(conv));
    const outRows = scratch.table(denseRows(pixels, outChannels * 4));
    const rowLength = filterWidth * inChannels;
    for (let kh = 0; kh < filterHeight; kh++) {
      blockedProduct(
        kernels,
        [pixels, outChannels, rowLength],
        patches,
        x + kh * inWidth * inChannels * 4,
        filter + kh * rowLength * outChannels * 4,
        outRows,
        y,
        kh > 0,
      );
    }
  } finally {
    scratch.free();
  }
}

/**
 * Input channels below which the input gradient goes through explicit columns: one product per
 * tap would have too few output columns (3 for an RGB stem) to fill the 8-wide register tiles.
 */
const FEW_INPUT_CHANNELS = 16;

/**
 * dx = ∂(conv)/∂x applied to dy; `dx` must be zero-filled by the caller (positions no output reads
 * stay 0). `filter` is the [kh, kw, ci, co] filter.
 *
 * @example convInputGrad(backend, conv, dyOffset, filterOffset, dxOffset);
 */
export function convInputGrad(
  backend: BackendWasm,
  conv: ValidConv,
  dy: number,
  filter: number,
  dx: number,
): void {
  if (conv.inChannels < FEW_INPUT_CHANNELS) convInputGradByColumns(backend, conv, dy, filter, dx);
  else convInputGradByTaps(backend, conv, dy, filter, dx);
}

/** One product per tap, scattered straight into dx: for each tap, distinct pixels never overlap. */
function convInputGradByTaps(
  backend: BackendWasm,
  conv: ValidConv,
  dy: number,
  filter: number,
  dx: number,
): void {
  const { inWidth, inChannels, filterHeight, filterWidth, outChannels } = conv;
  const kernels = simdKernels(backend);
  const scratch = new HeapScratch(backend);
  try {
    const pixels = outputPixels(conv);
    const taps = filterHeight * filterWidth;
    const byTap = scratch.alloc(taps * inChannels * outChannels * 4);
    transposeBlocks(backend, taps, inChannels, outChannels, filter, byTap);
    const patches = scratch.table(patchOffsets(conv));
    const dyRows = scratch.table(denseRows(pixels, outChannels * 4));
    for (let kh = 0; kh < filterHeight; kh++) {
      for (let kw = 0; kw < filterWidth; kw++) {
        const tap = kh * filterWidth + kw;
        blockedProduct(
          kernels,
          [pixels, inChannels, outChannels],
          dyRows,
          dy,
          byTap + tap * outChannels * inChannels * 4,
          patches,
          dx + (kh * inWidth + kw) * inChannels * 4,
          true,
        );
      }
    }
  } finally {
    scratch.free();
  }
}

/** cols[p, (kh,kw,ci)] = dy[p] · Wᵀ in one wide product, then each filter row's columns added onto dx. */
function convInputGradByColumns(
  backend: BackendWasm,
  conv: ValidConv,
  dy: number,
  filter: number,
  dx: number,
): void {
  const { inWidth, inChannels, filterHeight, filterWidth, outChannels } = conv;
  const kernels = simdKernels(backend);
  const scratch = new HeapScratch(backend);
  try {
    const pixels = outputPixels(conv);
    const columns = filterHeight * filterWidth * inChannels;
    const filterT = scratch.alloc(columns * outChannels * 4);
    transposeBlocks(backend, 1, columns, outChannels, filter, filterT);
    const cols = scratch.alloc(pixels * columns * 4);
    const dyRows = scratch.table(denseRows(pixels, outChannels * 4));
    const colRows = scratch.table(denseRows(pixels, columns * 4));
    blockedProduct(kernels, [pixels, columns, outChannels], dyRows, dy, filterT, colRows, cols, false);
    const patches = scratch.table(patchOffsets(conv));
    kernels.col2im_add(
      pixels,
      filterHeight,
      filterWidth * inChannels,
      cols,
      patches,
      dx,
      inWidth * inChannels * 4,
    );
  } finally {
    scratch.free();
  }
}

/**
 * dW = ∂(conv)/∂W applied to dy, [kh, kw, ci, co]; fully overwritten.
 *
 * @example convFilterGrad(backend, conv, xOffset, dyOffset, dwOffset);
 */
export function convFilterGrad(
  backend: BackendWasm,
  conv: ValidConv,
  x: number,
  dy: number,
  dw: number,
): void {
  const { inWidth, inChannels, filterHeight, filterWidth, outChannels } = conv;
  const kernels = simdKernels(backend);
  const scratch = new HeapScratch(backend);
  try {
    const pixels = outputPixels(conv);
    const patches = scratch.table(patchOffsets(conv));
    const rowLength = filterWidth * inChannels;
    for (let kh = 0; kh < filterHeight; kh++) {
      for (let p0 = 0; p0 < pixels; p0 += PIXEL_BLOCK) {
        const k = Math.min(PIXEL_BLOCK, pixels - p0);
        kernels.gemm_tn(
          rowLength,
          outChannels,
          k,
          x + kh * inWidth * inChannels * 4,
          patches + p0 * 4,
          dy + p0 * outChannels * 4,
          outChannels * 4,
          dw + kh * rowLength * outChannels * 4,
          outChannels * 4,
          p0 > 0 ? 1 : 0,
        );
      }
    }
  } finally {
    scratch.free();
  }
}

/**
 * OUT[b][c][r] = IN[b][r][c] for b < blocks (byte offsets): 4x4 SIMD transposes when both sides
 * are multiples of 4, a plain loop otherwise (small filters: RGB stems, tiny test networks).
 *
 * @example transposeBlocks(backend, 9, 64, 128, filterOffset, outOffset); // [tap][ci][co] -> [tap][co][ci]
 */
export function transposeBlocks(
  backend: BackendWasm,
  blocks: number,
  rows: number,
  cols: number,
  from: number,
  to: number,
): void {
  if (rows % 4 === 0 && cols % 4 === 0) {
    simdKernels(backend).transpose_blocks(blocks, rows, cols, from, to);
    return;
  }
  const heap = emscripten(backend).HEAPF32;
  const size = rows * cols;
  for (let b = 0; b < blocks; b++) {
    const src = (from >>> 2) + b * size;
    const dst = (to >>> 2) + b * size;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) heap[dst + c * rows + r] = heap[src + r * cols + c];
    }
  }
}
