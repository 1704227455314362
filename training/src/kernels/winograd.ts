/**
 * Winograd passes for 3x3, stride-1 'valid' convolutions (the bulk of a ResNet's work): forward
 * and filter gradient, each transforms (simd/winograd-kernels) around 16 matrix products on the
 * SIMD GEMM kernels (measured 1.7x faster than the direct passes at 64 px). Odd output sizes are
 * padded by one zero row/column and cropped; channel counts must be multiples of 4 (see
 * `winogradApplies`). The input gradient stays direct: as a transposed convolution it needs a
 * 2-pixel border that ate the gain (measured equal at 16x16, slower below).
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import type { ValidConv } from './conv-gemm';
import { blockedProduct, denseRows } from './conv-gemm';
import { HeapScratch, simdKernels } from './simd/simd-module';
import { emscripten } from './wasm-heap';

/** Transformed positions per tile (4x4). */
const POSITIONS = 16;
const TILE_BLOCK = 64;
export function winogradApplies(conv: ValidConv): boolean {
  return (
    conv.filterHeight === 3 &&
    conv.filterWidth === 3 &&
    conv.strideHeight === 1 &&
    conv.strideWidth === 1 &&
    conv.inChannels % 4 === 0 &&
    conv.outChannels % 4 === 0
  );
}

const even = (n: number) => n + (n % 2);

/**
 * Copies an NHWC tensor at `from` ([N, h, w, C]) into a zeroed [N, h + top + bottom, w + left +
 * right, C] buffer at `to`, offset by (top, left). Byte offsets.
 */
function padInto(
  backend: BackendWasm,
  from: number,
  to: number,
  [n, h, w, c]: [number, number, number, number],
  [top, bottom, left, right]: [number, number, number, number],
): void {
  const heap = emscripten(backend).HEAPF32;
  const outW = w + left + right;
  const outH = h + top + bottom;
  heap.fill(0, to >>> 2, (to >>> 2) + n * outH * outW * c);
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < h; r++) {
      const src = (from >>> 2) + (b * h + r) * w * c;
      const dst = (to >>> 2) + ((b * outH + r + top) * outW + left) * c;
      heap.copyWithin(dst, src, src + w * c);
    }
  }
}

/** Copies the top-left [N, h, w, C] of an [N, H, W, C] tensor. Byte offsets. */
function cropInto(
  backend: BackendWasm,
  from: number,
  to: number,
  [n, fullH, fullW, c]: [number, number, number, number],
  [h, w]: [number, number],
): void {
  const heap = emscripten(backend).HEAPF32;
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < h; r++) {
      const src = (from >>> 2) + (b * fullH + r) * fullW * c;
      const dst = (to >>> 2) + (b * h + r) * w * c;
      heap.copyWithin(dst, src, src + w * c);
    }
  }
}

/**
 * x with one zero row and/or column more at the bottom/right where the output size is odd, so that
 * whole 2x2 tiles cover the output: [N, even(OH) + 2, even(OW) + 2, C] in `scratch`. Byte offsets.
 */
function evenInput(backend: BackendWasm, scratch: HeapScratch, conv: ValidConv, x: number): number {
  const { batch, inHeight, inWidth, inChannels, outHeight, outWidth } = conv;
  const [evenH, evenW] = [even(outHeight), even(outWidth)];
  const input = scratch.alloc(batch * (evenH + 2) * (evenW + 2) * inChannels * 4);
  padInto(
    backend,
    x,
    input,
    [batch, inHeight, inWidth, inChannels],
    [0, evenH - outHeight, 0, evenW - outWidth],
  );
  return input;
}

/**
 * Tiles per chunk: the 16 transformed input and product matrices of a chunk (16·tiles·(C+K)
 * floats) stay within ~2 MiB, in cache between the transform and the products, and the scratch
 * memory stays bounded for large inputs (densenet161 at 224 px would need 300+ MiB unchunked).
 */
const CHUNK_BYTES = 2 * 1024 * 1024;

function tilesPerChunk(channels: number): number {
  return Math.max(TILE_BLOCK, Math.floor(CHUNK_BYTES / (POSITIONS * channels * 4)));
}

/** y = conv(x, U) from transformed filters. `x` is [N, 2·TH + 2, 2·TW + 2, C]; writes y [N, 2·TH, 2·TW, K]. */
function convolveTransformed(
  backend: BackendWasm,
  scratch: HeapScratch,
  shape: { batch: number; tilesHigh: number; tilesWide: number; inChannels: number; outChannels: number },
  x: number,
  u: number,
  y: number,
): void {
  const { batch, tilesHigh, tilesWide, inChannels, outChannels } = shape;
  const kernels = simdKernels(backend);
  const tiles = batch * tilesHigh * tilesWide;
  const chunk = Math.min(tiles, tilesPerChunk(inChannels + outChannels));
  const vStride = chunk * inChannels * 4;
  const mStride = chunk * outChannels * 4;
  const v = scratch.alloc(POSITIONS * vStride);
  const m = scratch.alloc(POSITIONS * mStride);
  const aRows = scratch.table(denseRows(chunk, inChannels * 4));
  const cRows = scratch.table(denseRows(chunk, outChannels * 4));
  const [height, width] = [2 * tilesHigh, 2 * tilesWide];
  for (let t0 = 0; t0 < tiles; t0 += chunk) {
    const count = Math.min(chunk, tiles - t0);
    kernels.wino_input(height + 2, width + 2, inChannels, tilesHigh, tilesWide, t0, count, x, v, vStride);
    for (let e = 0; e < POSITIONS; e++) {
      blockedProduct(
        kernels,
        [count, outChannels, inChannels],
        aRows,
        v + e * vStride,
        u + e * inChannels * outChannels * 4,
        cRows,
        m + e * mStride,
        false,
      );
    }
    kernels.wino_output(height, width, outChannels, tilesHigh, tilesWide, t0, count, m, y, mStride);
  }
}
/**
 * Forward pass: y = conv(x, filter) for a `winogradApplies` convolution. Byte offsets.
 *
 * @example winogradForward(backend, conv, xOffset, filterOffset, yOffset);
 */
export function winogradForward(
  backend: BackendWasm,
  conv: ValidConv,
  x: number,
  filter: number,
  y: number,
): void {
  const { batch, inChannels, outChannels, outHeight, outWidth } = conv;
  const scratch = new HeapScratch(backend);
  try {
    const u = scratch.alloc(POSITIONS * inChannels * outChannels * 4);
    simdKernels(backend).wino_filter(inChannels, outChannels, filter, u, inChannels * outChannels * 4);
    const [evenH, evenW] = [even(outHeight), even(outWidth)];
    const padded = evenH !== outHeight || evenW !== outWidth;
    let input = x;
    let output = y;
    if (padded) {
      input = evenInput(backend, scratch, conv, x);
      output = scratch.alloc(batch * evenH * evenW * outChannels * 4);
    }
    const shape = { batch, tilesHigh: evenH / 2, tilesWide: evenW / 2, inChannels, outChannels };
    convolveTransformed(backend, scratch, shape, input, u, output);
    if (padded) cropInto(backend, output, y, [batch, evenH, evenW, outChannels], [outHeight, outWidth]);
  } finally {
    scratch.free();
  }
}

/**
 * Filter gradient: dW[kh][kw][c][k] = Σ x[n][oh+kh][ow+kw][c]·dy[n][oh][ow][k], fully written.
 *
 * @example winogradFilterGrad(backend, conv, xOffset, dyOffset, dwOffset);
 */
export function winogradFilterGrad(
  backend: BackendWasm,
  conv: ValidConv,
  x: number,
  dy: number,
  dw: number,
): void {
  const { batch, inChannels, outChannels, outHeight, outWidth } = conv;
  const kernels = simdKernels(backend);
  const scratch = new HeapScratch(backend);
  try {
    const [evenH, evenW] = [even(outHeight), even(outWidth)];
    let input = x;
    let grad = dy;
    if (evenH !== outHeight || evenW !== outWidth) {
      // A zero row/column of dy contributes nothing; x gets the matching extra row/column.
      input = evenInput(backend, scratch, conv, x);
      grad = scratch.alloc(batch * evenH * evenW * outChannels * 4);
      padInto(
        backend,
        dy,
        grad,
        [batch, outHeight, outWidth, outChannels],
        [0, evenH - outHeight, 0, evenW - outWidth],
      );
    }
    const [tilesHigh, tilesWide] = [evenH / 2, evenW / 2];
    const tiles = batch * tilesHigh * tilesWide;
    const chunk = Math.min(tiles, tilesPerChunk(inChannels + outChannels));
    const vStride = chunk * inChannels * 4;
    const dStride = chunk * outChannels * 4;
    const wStride = inChannels * outChannels * 4;
    const v = scratch.alloc(POSITIONS * vStride);
    const d = scratch.alloc(POSITIONS * dStride);
    const products = scratch.alloc(POSITIONS * wStride);
    const tileRows = scratch.table(denseRows(chunk, inChannels * 4));
    for (let t0 = 0; t0 < tiles; t0 += chunk) {
      const count = Math.min(chunk, tiles - t0);
      kernels.wino_input(
        evenH + 2,
        evenW + 2,
        inChannels,
        tilesHigh,
        tilesWide,
        t0,
        count,
        input,
        v,
        vStride,
      );
      kernels.wino_dy(evenH, evenW, outChannels, tilesHigh, tilesWide, t0, count, grad, d, dStride);
      for (let e = 0; e < POSITIONS; e++) {
        for (let b0 = 0; b0 < count; b0 += TILE_BLOCK) {
          kernels.gemm_tn(
            inChannels,
            outChannels,
            Math.min(TILE_BLOCK, count - b0),
            v + e * vStride,
            tileRows + b0 * 4,
            d + e * dStride + b0 * outChannels * 4,
            outChannels * 4,
            products + e * wStride,
            outChannels * 4,
            t0 > 0 || b0 > 0 ? 1 : 0,
          );
        }
      }
    }
    kernels.wino_filter_grad(inChannels, outChannels, products, dw, wStride);
  } finally {
    scratch.free();
  }
}
