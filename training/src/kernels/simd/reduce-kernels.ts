/**
 * Generators of per-channel reductions over NHWC tensors seen as [rows, channels] matrices:
 * what BatchNorm's statistics and gradients need. The stock wasm Sum transposes the whole
 * tensor first when the reduced axes are the leading ones, and BatchNorm's stock gradient adds
 * a full-size Tile; these read each element once.
 *
 * - `column_sums(R, C, X, OUT)`: OUT[c] += Σ_r X[r][c]
 * - `bn_grad_sums(R, C, DY, X, MEAN, OUT)`: OUT[c] += Σ_r DY[r][c]; OUT[C + c] += Σ_r DY[r][c]·(X[r][c] − MEAN[c])
 * OUT must be initialised by the caller (zeros). All pointers are byte offsets.
 */
import { F32, FunctionBuilder, I32, V128, type Local } from './wasm-assembler';

/**
 * Rows per pass over a column block: a block of rows stays in L1/L2 while every column block
 * walks it, instead of streaming the tensor once per column block.
 */
const ROW_CHUNK = 32;

interface ColumnBlockEmitter {
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
function emitChunkedColumns(
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
function load(f: FunctionBuilder, width: number, address: () => void, v: number, target: Local): void {
  address();
  if (width === 1) f.f32Load(0);
  else f.v128Load(16 * v);
  f.set(target);
}

function store(f: FunctionBuilder, width: number, address: () => void, v: number, value: Local): void {
  address();
  f.get(value);
  if (width === 1) f.f32Store(0);
  else f.v128Store(16 * v);
}

function add(f: FunctionBuilder, width: number): void {
  if (width === 1) f.f32Add();
  else f.f32x4Add();
}

function mul(f: FunctionBuilder, width: number): void {
  if (width === 1) f.f32Mul();
  else f.f32x4Mul();
}

function sub(f: FunctionBuilder, width: number): void {
  if (width === 1) f.f32Sub();
  else f.f32x4Sub();
}

const COLUMN_WIDTHS = [16, 4, 1] as const;

export function buildColumnSums(): FunctionBuilder {
  const f = new FunctionBuilder('column_sums', [I32, I32, I32, I32]);
  const [R, C, X, OUT] = [0, 1, 2, 3].map((n) => f.param(n));
  emitChunkedColumns(f, R!, C!, COLUMN_WIDTHS, (width) => {
    const vectors = width === 1 ? 1 : width / 4;
    const type = width === 1 ? F32 : V128;
    const acc = Array.from({ length: vectors }, () => f.local(type));
    const outAt = (c: Local) => () => f.get(OUT!).get(c).i32Const(4).i32Mul().i32Add();
    return {
      width,
      begin: (c) => acc.forEach((a, v) => load(f, width, outAt(c), v, a)),
      row: (rowOffset) => {
        acc.forEach((a, v) => {
          f.get(a).get(X!).get(rowOffset).i32Add();
          if (width === 1) f.f32Load(0);
          else f.v128Load(16 * v);
          add(f, width);
          f.set(a);
        });
      },
      finish: (c) => acc.forEach((a, v) => store(f, width, outAt(c), v, a)),
    };
  });
  return f;
}

export function buildBatchNormGradSums(): FunctionBuilder {
  const f = new FunctionBuilder('bn_grad_sums', [I32, I32, I32, I32, I32, I32]);
  const [R, C, DY, X, MEAN, OUT] = [0, 1, 2, 3, 4, 5].map((n) => f.param(n));
  const cBytes = f.local(I32);
  f.get(C!).i32Const(4).i32Mul().set(cBytes);
  emitChunkedColumns(f, R!, C!, [8, 4, 1], (width) => {
    const vectors = width === 1 ? 1 : width / 4;
    const type = width === 1 ? F32 : V128;
    const sumDy = Array.from({ length: vectors }, () => f.local(type));
    const sumDyXm = Array.from({ length: vectors }, () => f.local(type));
    const mean = Array.from({ length: vectors }, () => f.local(type));
    const dy = f.local(type);
    const outAt = (c: Local, second: boolean) => () => {
      f.get(OUT!).get(c).i32Const(4).i32Mul().i32Add();
      if (second) f.get(cBytes).i32Add();
    };
    const meanAt = (c: Local) => () => f.get(MEAN!).get(c).i32Const(4).i32Mul().i32Add();
    return {
      width,
      begin: (c) => {
        for (let v = 0; v < vectors; v++) {
          load(f, width, outAt(c, false), v, sumDy[v]!);
          load(f, width, outAt(c, true), v, sumDyXm[v]!);
          load(f, width, meanAt(c), v, mean[v]!);
        }
      },
      row: (rowOffset) => {
        for (let v = 0; v < vectors; v++) {
          load(f, width, () => f.get(DY!).get(rowOffset).i32Add(), v, dy);
          f.get(sumDy[v]!).get(dy);
          add(f, width);
          f.set(sumDy[v]!);
          // sumDyXm += dy * (x - mean)
          f.get(sumDyXm[v]!).get(dy).get(X!).get(rowOffset).i32Add();
          if (width === 1) f.f32Load(0);
          else f.v128Load(16 * v);
          f.get(mean[v]!);
          sub(f, width);
          mul(f, width);
          add(f, width);
          f.set(sumDyXm[v]!);
        }
      },
      finish: (c) => {
        for (let v = 0; v < vectors; v++) {
          store(f, width, outAt(c, false), v, sumDy[v]!);
          store(f, width, outAt(c, true), v, sumDyXm[v]!);
        }
      },
    };
  });
  return f;
}
