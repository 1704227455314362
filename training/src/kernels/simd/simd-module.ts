/**
 * Instantiates our generated SIMD kernels on the wasm backend's own heap (its exported
 * WebAssembly.Memory), once per backend instance, so the kernels read and write tensors where
 * tfjs keeps them: no copies in or out.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { emscripten, webAssembly } from '../wasm-heap';
import { buildGemmNN, buildGemmTN } from './gemm-kernels';
import { buildChannelAffine } from './channel-kernels';
import { buildCol2ImAdd, buildTransposeBlocks } from './layout-kernels';
import { buildAdamW, buildSumSquares } from './optimizer-kernels';
import { buildMaxPoolGrad } from './pool-kernels';
import {
  buildWinogradFilter,
  buildWinogradFilterGradOutput,
  buildWinogradGradTiles,
  buildWinogradInput,
  buildWinogradOutput,
} from './winograd-kernels';
import { buildBatchNormGradSums, buildColumnSums } from './reduce-kernels';
import { encodeModule, type FunctionBuilder } from './wasm-assembler';

type I32Fn = (...args: number[]) => void;

export interface SimdKernels {
  /** See gemm-kernels.ts for the argument meanings. */
  gemm_nn: I32Fn;
  gemm_tn: I32Fn;
  /** See reduce-kernels.ts. */
  column_sums: I32Fn;
  bn_grad_sums: I32Fn;
  /** See layout-kernels.ts. */
  transpose_blocks: I32Fn;
  col2im_add: I32Fn;
  /** See channel-kernels.ts. */
  channel_affine: I32Fn;
  /** See pool-kernels.ts. */
  max_pool_grad: I32Fn;
  /** See winograd-kernels.ts. */
  wino_input: I32Fn;
  wino_filter: I32Fn;
  wino_output: I32Fn;
  wino_dy: I32Fn;
  wino_filter_grad: I32Fn;
  /** See optimizer-kernels.ts. */
  adamw: I32Fn;
  sum_squares: I32Fn;
}

const BUILDERS: (() => FunctionBuilder)[] = [
  buildGemmNN,
  buildGemmTN,
  buildColumnSums,
  buildBatchNormGradSums,
  buildTransposeBlocks,
  buildCol2ImAdd,
  buildChannelAffine,
  buildMaxPoolGrad,
  buildWinogradInput,
  buildWinogradFilter,
  buildWinogradOutput,
  buildWinogradGradTiles,
  buildWinogradFilterGradOutput,
  buildAdamW,
  buildSumSquares,
];

let compiled: object | undefined;
const instances = new WeakMap<object, SimdKernels>();

/** The tfjs wasm module exposes Emscripten's exports, the memory among them, as `asm`. */
function memoryOf(backend: BackendWasm): object {
  const memory = emscripten(backend).asm?.memory;
  if (!(memory instanceof webAssembly.Memory)) {
    throw new Error('the tfjs wasm backend does not expose its WebAssembly.Memory; unsupported version');
  }
  return memory;
}

/**
 * The kernels bound to `backend`'s heap.
 *
 * @example simdKernels(backend).gemm_nn(m, n, k, aRows, aOff, b, ldb, cRows, cOff, 0);
 */
export function simdKernels(backend: BackendWasm): SimdKernels {
  const key = backend.wasm as object;
  let kernels = instances.get(key);
  if (!kernels) {
    compiled ??= new webAssembly.Module(encodeModule(BUILDERS.map((build) => build())));
    const instance = new webAssembly.Instance(compiled, { env: { memory: memoryOf(backend) } });
    kernels = instance.exports as unknown as SimdKernels;
    instances.set(key, kernels);
  }
  return kernels;
}

/**
 * Heap scratch space for one kernel call (offset tables, transposed filters), freed by `free()`.
 *
 * @example const scratch = new HeapScratch(backend); try { scratch.alloc(64); } finally { scratch.free(); }
 */
export class HeapScratch {
  private readonly blocks: number[] = [];

  constructor(private readonly backend: BackendWasm) {}

  /** Allocates `bytes` (16-byte aligned by dlmalloc) and returns the byte offset. */
  alloc(bytes: number): number {
    const offset = emscripten(this.backend)._malloc(Math.max(16, bytes)) >>> 0;
    if (offset === 0) throw new Error(`wasm heap exhausted allocating ${bytes} bytes`);
    this.blocks.push(offset);
    return offset;
  }

  /** Allocates an i32 table and fills it from `values`. */
  table(values: Int32Array): number {
    const offset = this.alloc(values.byteLength);
    emscripten(this.backend).HEAP32.set(values, offset >>> 2);
    return offset;
  }

  free(): void {
    for (const offset of this.blocks.splice(0)) emscripten(this.backend)._free(offset);
  }
}
