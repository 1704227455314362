/**
 * The generated SIMD kernels against plain-JS references, on shapes that hit every tile edge
 * (row remainders, 4-wide and scalar column remainders, K = 1).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { selectTrainingBackend } from '../../src/backend';
import { denseRows, transposeBlocks } from '../../src/kernels/conv-gemm';
import { HeapScratch, simdKernels } from '../../src/kernels/simd/simd-module';
import { emscripten } from '../../src/kernels/wasm-heap';

/** float32 sums of up to a few hundred products, against float64 references. */
const SUM_TOLERANCE = 1e-4;

let backend: BackendWasm;
let scratch: HeapScratch;

beforeAll(async () => {
  await selectTrainingBackend('wasm');
  backend = tf.backend() as BackendWasm;
});
beforeEach(() => {
  scratch = new HeapScratch(backend);
});
afterEach(() => scratch.free());

/** Deterministic values in [-1, 1). */
function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let state = seed;
  for (let i = 0; i < count; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    out[i] = state / 1073741824 - 1;
  }
  return out;
}

/** Copies `data` onto the heap and returns its byte offset. */
function put(data: Float32Array): number {
  const offset = scratch.alloc(data.byteLength);
  emscripten(backend).HEAPF32.set(data, offset >>> 2);
  return offset;
}

function read(offset: number, count: number): Float32Array {
  return emscripten(backend).HEAPF32.slice(offset >>> 2, (offset >>> 2) + count);
}

function maxError(actual: Float32Array, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  return worst;
}

const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [4, 8, 1],
  [5, 13, 7],
  [9, 21, 33],
  [12, 3, 64],
  [17, 70, 5],
];

describe('gemm_nn', () => {
  it.each(SHAPES)('C = A·B and C += A·B for M=%i N=%i K=%i, through row tables', (m, n, k) => {
    const a = values(m * k, 1);
    const b = values(k * n, 2);
    const c0 = values(m * n, 3);
    // A rows in reverse order and C rows interleaved with gaps, to prove the tables are honoured.
    const aOffset = put(a);
    const aRows = scratch.table(Int32Array.from({ length: m }, (_, i) => (m - 1 - i) * k * 4));
    const cOffset = put(new Float32Array(2 * m * n));
    const cRows = scratch.table(Int32Array.from({ length: m }, (_, i) => 2 * i * n * 4));
    const expected = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) sum += a[(m - 1 - i) * k + p] * b[p * n + j];
        expected[i * n + j] = sum;
      }
    }
    const bOffset = put(b);
    simdKernels(backend).gemm_nn(m, n, k, aRows, aOffset, bOffset, n * 4, cRows, cOffset, 0);
    const rowsOf = (flat: Float32Array) => {
      const out = new Float32Array(m * n);
      for (let i = 0; i < m; i++) out.set(flat.subarray(2 * i * n, 2 * i * n + n), i * n);
      return out;
    };
    expect(maxError(rowsOf(read(cOffset, 2 * m * n)), expected)).toBeLessThan(SUM_TOLERANCE);

    const accumulated = put(c0);
    simdKernels(backend).gemm_nn(
      m,
      n,
      k,
      aRows,
      aOffset,
      bOffset,
      n * 4,
      scratch.table(denseRows(m, n * 4)),
      accumulated,
      1,
    );
    expect(
      maxError(
        read(accumulated, m * n),
        expected.map((v, i) => v + c0[i]),
      ),
    ).toBeLessThan(SUM_TOLERANCE);
  });
});

describe('gemm_tn', () => {
  it.each(SHAPES)('C = Aᵀ·B for M=%i N=%i K=%i with A rows from a table', (m, n, k) => {
    // A is stored as k rows of m values at table offsets (every other row of a 2k-row buffer).
    const stored = values(2 * k * m, 4);
    const b = values(k * n, 5);
    const aOffset = put(stored);
    const kRows = scratch.table(Int32Array.from({ length: k }, (_, p) => 2 * p * m * 4));
    const cOffset = put(new Float32Array(m * n));
    simdKernels(backend).gemm_tn(m, n, k, aOffset, kRows, put(b), n * 4, cOffset, n * 4, 0);
    const expected = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) sum += stored[2 * p * m + i] * b[p * n + j];
        expected[i * n + j] = sum;
      }
    }
    expect(maxError(read(cOffset, m * n), expected)).toBeLessThan(SUM_TOLERANCE);
  });
});

describe('layout kernels', () => {
  it.each([
    [1, 4, 4],
    [3, 8, 12],
    [2, 5, 3],
    [1, 147, 64],
  ])('transposes %i blocks of %ix%i', (blocks, rows, cols) => {
    const input = values(blocks * rows * cols, 6);
    const out = put(new Float32Array(input.length));
    transposeBlocks(backend, blocks, rows, cols, put(input), out);
    const expected = new Float32Array(input.length);
    for (let b = 0; b < blocks; b++) {
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++)
          expected[b * rows * cols + c * rows + r] = input[b * rows * cols + r * cols + c];
      }
    }
    expect(maxError(read(out, input.length), expected)).toBe(0);
  });

  it('col2im_add scatters overlapping segments additively', () => {
    const [pixels, segments, length, segmentStride] = [5, 3, 7, 9];
    const cols = values(pixels * segments * length, 7);
    const dxLength = 64;
    const dx = put(new Float32Array(dxLength));
    // Overlapping destinations: pixel p starts at 2p floats.
    const rows = scratch.table(Int32Array.from({ length: pixels }, (_, p) => 2 * p * 4));
    simdKernels(backend).col2im_add(pixels, segments, length, put(cols), rows, dx, segmentStride * 4);
    const expected = new Float64Array(dxLength);
    for (let p = 0; p < pixels; p++) {
      for (let s = 0; s < segments; s++) {
        for (let e = 0; e < length; e++)
          expected[2 * p + s * segmentStride + e] += cols[(p * segments + s) * length + e];
      }
    }
    expect(maxError(read(dx, dxLength), expected)).toBeLessThan(SUM_TOLERANCE);
  });
});

describe('reductions', () => {
  it.each([
    [1, 1],
    [33, 21],
    [70, 8],
    [5, 64],
  ])('column sums and BatchNorm gradient sums of %ix%i', (rows, channels) => {
    const x = values(rows * channels, 8);
    const dy = values(rows * channels, 9);
    const mean = values(channels, 10);
    const sums = put(new Float32Array(channels));
    simdKernels(backend).column_sums(rows, channels, put(x), sums);
    const bn = put(new Float32Array(2 * channels));
    simdKernels(backend).bn_grad_sums(rows, channels, put(dy), put(x), put(mean), bn);
    const expectedSums = new Float64Array(channels);
    const expectedBn = new Float64Array(2 * channels);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < channels; c++) {
        const i = r * channels + c;
        expectedSums[c] += x[i];
        expectedBn[c] += dy[i];
        expectedBn[channels + c] += dy[i] * (x[i] - mean[c]);
      }
    }
    expect(maxError(read(sums, channels), expectedSums)).toBeLessThan(SUM_TOLERANCE);
    expect(maxError(read(bn, 2 * channels), expectedBn)).toBeLessThan(SUM_TOLERANCE);
  });
});
