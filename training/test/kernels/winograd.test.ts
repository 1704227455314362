/**
 * The Winograd passes against the direct GEMM passes (which conv-gradients.test.ts checks against
 * the cpu backend) on shapes large enough to be processed in several tile chunks, with even and
 * odd output sizes — sizes the cpu backend would need minutes for.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { selectTrainingBackend } from '../../src/backend';
import { convFilterGrad, convForward, type ValidConv } from '../../src/kernels/conv-gemm';
import { HeapScratch } from '../../src/kernels/simd/simd-module';
import { emscripten } from '../../src/kernels/wasm-heap';
import { winogradApplies, winogradFilterGrad, winogradForward } from '../../src/kernels/winograd';

/** Largest difference relative to the largest value; Winograd's transforms add float32 rounding. */
const RELATIVE_TOLERANCE = 1e-4;

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

function random(count: number, seed: number): number {
  const offset = scratch.alloc(count * 4);
  const heap = emscripten(backend).HEAPF32;
  let state = seed;
  for (let i = 0; i < count; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    heap[(offset >>> 2) + i] = state / 1073741824 - 1;
  }
  return offset;
}

function relativeDifference(a: number, b: number, count: number): number {
  const heap = emscripten(backend).HEAPF32;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < count; i++) {
    diff = Math.max(diff, Math.abs(heap[(a >>> 2) + i] - heap[(b >>> 2) + i]));
    scale = Math.max(scale, Math.abs(heap[(b >>> 2) + i]));
  }
  return diff / scale;
}

function conv(
  batch: number,
  height: number,
  width: number,
  inChannels: number,
  outChannels: number,
): ValidConv {
  return {
    batch,
    inHeight: height,
    inWidth: width,
    inChannels,
    filterHeight: 3,
    filterWidth: 3,
    outChannels,
    strideHeight: 1,
    strideWidth: 1,
    outHeight: height - 2,
    outWidth: width - 2,
  };
}

describe.each([
  ['many chunks, even sizes', conv(4, 34, 34, 64, 64)],
  ['odd output sizes', conv(3, 13, 16, 32, 48)],
  ['one tile per image', conv(8, 4, 4, 128, 96)],
])('Winograd vs direct, %s', (_name, shape) => {
  it('is eligible for the Winograd path', () => {
    expect(winogradApplies(shape)).toBe(true);
  });

  it('forward', () => {
    const x = random(shape.batch * shape.inHeight * shape.inWidth * shape.inChannels, 1);
    const filter = random(9 * shape.inChannels * shape.outChannels, 2);
    const outputs = shape.batch * shape.outHeight * shape.outWidth * shape.outChannels;
    const direct = scratch.alloc(outputs * 4);
    const winograd = scratch.alloc(outputs * 4);
    convForward(backend, shape, x, filter, direct);
    winogradForward(backend, shape, x, filter, winograd);
    expect(relativeDifference(winograd, direct, outputs)).toBeLessThan(RELATIVE_TOLERANCE);
  });

  it('filter gradient', () => {
    const x = random(shape.batch * shape.inHeight * shape.inWidth * shape.inChannels, 3);
    const dy = random(shape.batch * shape.outHeight * shape.outWidth * shape.outChannels, 4);
    const weights = 9 * shape.inChannels * shape.outChannels;
    const direct = scratch.alloc(weights * 4);
    const winograd = scratch.alloc(weights * 4);
    convFilterGrad(backend, shape, x, dy, direct);
    winogradFilterGrad(backend, shape, x, dy, winograd);
    expect(relativeDifference(winograd, direct, weights)).toBeLessThan(RELATIVE_TOLERANCE);
  });
});
