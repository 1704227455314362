/**
 * The loop nest shared by the per-channel kernels over NHWC tensors seen as [rows, channels]:
 * chunks of rows, then column blocks of decreasing width (vectors, then scalars), then the rows
 * of the chunk, so per-channel values stay in registers while a chunk of rows stays in cache.
 */
import { FunctionBuilder, I32, type Local } from './wasm-assembler';

/**
 * Rows per pass over a column block: a block of rows stays in L1/L2 while every column block
 * walks it, instead of streaming the tensor once per column block.
 */
const ROW_CHUNK = 32;

export interface ColumnBlockEmitter {
  /** Channels per block: a multiple of 4 (vectors) or 1 (scalar). */
  width: number;
  /** Emits the accumulator setup for the block starting at column `c`. */
  begin: (c: Local) => void;
  /** Emits the body for one row; `rowOffset` holds the byte offset of (row, c). */
  row: (rowOffset: Local) => void;
  /** Emits the write-back of the accumulators. */
  finish: (c: Local) => void;
}

/**
 * The shared loop nest: row chunks, then column blocks of decreasing width, then the rows of
 * the chunk. `blocks(width)` makes the emitter for one block width.
 */
export function emitChunkedColumns(
  f: FunctionBuilder,
  R: Local,
  C: Local,
  widths: readonly number[],
  blocks: (width: number) => ColumnBlockEmitter,
): void {
  const r0 = f.local(I32);
  const r = f.local(I32);
  const rEnd = f.local(I32);
  const c = f.local(I32);
  const rowOffset = f.local(I32);
  const remaining = f.local(I32);
  const rowBytes = f.local(I32);
  f.get(C).i32Const(4).i32Mul().set(rowBytes);
  f.forRange(r0, 0, R, ROW_CHUNK, () => {
    // rEnd = min(r0 + ROW_CHUNK, R)
    f.get(r0).i32Const(ROW_CHUNK).i32Add().tee(rEnd).get(R).get(rEnd).get(R).i32LtS().select().set(rEnd);
    f.i32Const(0).set(c);
    for (const width of widths) {
      const block = blocks(width);
      f.block().loop();
      f.get(C).get(c).i32Sub().tee(remaining).i32Const(width).i32LtS().brIf(1);
      block.begin(c);
      f.get(r0).set(r);
      f.get(r0).get(rowBytes).i32Mul().get(c).i32Const(4).i32Mul().i32Add().set(rowOffset);
      f.loop();
      block.row(rowOffset);
      f.addTo(rowOffset, rowBytes);
      f.addTo(r, 1);
      f.get(r).get(rEnd).i32LtS().brIf(0);
      f.end();
      block.finish(c);
      f.addTo(c, width);
      f.br(0);
      f.end().end();
    }
  });
}

/** Loads (width 1: f32) or v128 from `base + offset + 16v` into `target`. */
export function load(f: FunctionBuilder, width: number, address: () => void, v: number, target: Local): void {
  address();
  if (width === 1) f.f32Load(0);
  else f.v128Load(16 * v);
  f.set(target);
}

export function store(f: FunctionBuilder, width: number, address: () => void, v: number, value: Local): void {
  address();
  f.get(value);
  if (width === 1) f.f32Store(0);
  else f.v128Store(16 * v);
}

export function add(f: FunctionBuilder, width: number): void {
  if (width === 1) f.f32Add();
  else f.f32x4Add();
}

export function mul(f: FunctionBuilder, width: number): void {
  if (width === 1) f.f32Mul();
  else f.f32x4Mul();
}

export function sub(f: FunctionBuilder, width: number): void {
  if (width === 1) f.f32Sub();
  else f.f32x4Sub();
}
