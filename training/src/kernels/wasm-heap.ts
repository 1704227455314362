/**
 * Typed access to the wasm backend's Emscripten module (heap views, malloc) and to the global
 * WebAssembly API; neither is in the typings our tsconfig loads (ES2022, no DOM). Views must be
 * taken after the last allocation of a kernel call: a heap growth replaces the buffer and
 * detaches older views.
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** The parts of the Emscripten module of tfjs-backend-wasm that our kernels use. */
export interface EmscriptenHeap {
  HEAPU8: Uint8Array;
  HEAP32: Int32Array;
  HEAPF32: Float32Array;
  _malloc(bytes: number): number;
  _free(offset: number): void;
  /** Emscripten's exports, the WebAssembly.Memory among them. */
  asm?: { memory?: unknown };
}

/** The subset of the WebAssembly JS API used to instantiate our kernels. */
export interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (
    module: object,
    imports: Record<string, Record<string, unknown>>,
  ) => { exports: Record<string, unknown> };
  Memory: abstract new (...args: never[]) => object;
}

export const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

export function emscripten(backend: BackendWasm): EmscriptenHeap {
  return backend.wasm as unknown as EmscriptenHeap;
}

/** The float32 heap and the element offset of `info` in it. */
export function heapF32(backend: BackendWasm, info: TensorInfo): { heap: Float32Array; offset: number } {
  const { memoryOffset } = backend.dataIdMap.get(info.dataId);
  // `>>> 2`: the byte offset is unsigned (heaps above 2 GiB) and float32-aligned (malloc aligns to 8+).
  return { heap: emscripten(backend).HEAPF32, offset: memoryOffset >>> 2 };
}
