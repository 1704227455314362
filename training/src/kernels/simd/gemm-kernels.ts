/**
 * Generators of the two matrix-multiply kernels every convolution pass is made of. They read
 * operands in place through row-offset tables, so im2col and col2im never materialise and no
 * weight packing happens (XNNPACK repacks a filter on every call, which costs as much as the
 * multiply for the small-spatial, many-channel layers of a 64 px ResNet).
 *
 * Both compute C (+)= A·B on 4x8 register tiles of f32x4 (splat A, vector B), with 4x4, 1xN and
 * scalar tiles for the edges. All addresses and strides are in bytes.
 *
 * - `gemm_nn(M, N, K, aRows, aOff, B, ldb, cRows, cOff, accumulate)`:
 *   A[i][k] = f32 at rows_a[i] + aOff + 4k, B[k][j] at B + k*ldb + 4j, C[i][j] at rows_c[i] + cOff + 4j,
 *   where rows_a / rows_c are i32 tables at `aRows` / `cRows`.
 * - `gemm_tn(M, N, K, A, kRows, B, ldb, C, ldc, accumulate)`:
 *   A[i][k] = f32 at rows_k[k] + A + 4i (A is read transposed), B as above, C[i][j] at C + i*ldc + 4j.
 */
import { F32, FunctionBuilder, I32, V128, type Local } from './wasm-assembler';

/** Rows of a register tile; 4 rows x 8 columns = 8 accumulators + 2 B vectors + 1 A splat fits x64's 16 registers. */
const TILE_ROWS = 4;
const TILE_COLS = 8;

interface TileContext {
  f: FunctionBuilder;
  i: Local;
  j: Local;
  K: Local;
  k: Local;
  pb: Local;
  accumulate: Local;
  /** Emits per-tile setup for `rows` rows starting at i (row pointers). */
  setupRows: (rows: number) => void;
  /** Pushes the byte address of C row r (without the column offset). */
  cRow: (r: number) => void;
  /** Resets the k-loop pointers (B at column j, A at k = 0). */
  reset: (rows: number) => void;
  /** Pushes the address of A[i+r][k] inside the k loop and returns a constant byte offset to add. */
  aAddress: (r: number) => number;
  /** Advances the k-loop pointers by one k. */
  advance: (rows: number) => void;
}

/** One register tile of `rows` x `cols` (8 or 4: f32x4 vectors; 1: scalar) at (i, j). */
function emitTile(ctx: TileContext, rows: number, cols: number): void {
  const { f, j, accumulate, pb, k, K } = ctx;
  const vectors = cols === 1 ? 1 : cols / 4;
  const accType = cols === 1 ? F32 : V128;
  const acc: Local[][] = [];
  for (let r = 0; r < rows; r++) acc.push(Array.from({ length: vectors }, () => f.local(accType)));
  const b = Array.from({ length: vectors }, () => f.local(accType));
  const a = f.local(accType);
  const cAddr = f.local(I32);
  const cAddress = (r: number) => {
    ctx.cRow(r);
    f.get(j).i32Const(4).i32Mul().i32Add().set(cAddr);
  };

  ctx.setupRows(rows);
  // Accumulators: zero, or C's current values when accumulating.
  for (let r = 0; r < rows; r++) {
    for (let v = 0; v < vectors; v++) {
      if (cols === 1) f.f32Const(0);
      else f.v128Zero();
      f.set(acc[r][v]);
    }
  }
  f.get(accumulate).if();
  for (let r = 0; r < rows; r++) {
    cAddress(r);
    for (let v = 0; v < vectors; v++) {
      f.get(cAddr);
      if (cols === 1) f.f32Load(0);
      else f.v128Load(16 * v);
      f.set(acc[r][v]);
    }
  }
  f.end();

  // The k loop (K >= 1). Unrolling it measured slower: V8 then spills tile registers.
  ctx.reset(rows);
  f.get(K).set(k);
  f.loop();
  for (let v = 0; v < vectors; v++) {
    f.get(pb);
    if (cols === 1) f.f32Load(0);
    else f.v128Load(16 * v);
    f.set(b[v]);
  }
  for (let r = 0; r < rows; r++) {
    const offset = ctx.aAddress(r);
    if (cols === 1) f.f32Load(offset);
    else f.v128Load32Splat(offset);
    f.set(a);
    for (let v = 0; v < vectors; v++) {
      f.get(acc[r][v]).get(a).get(b[v]);
      if (cols === 1) f.f32Mul().f32Add();
      else f.f32x4Mul().f32x4Add();
      f.set(acc[r][v]);
    }
  }
  ctx.advance(rows);
  f.get(k).i32Const(1).i32Sub().tee(k).brIf(0);
  f.end();

  for (let r = 0; r < rows; r++) {
    cAddress(r);
    for (let v = 0; v < vectors; v++) {
      f.get(cAddr).get(acc[r][v]);
      if (cols === 1) f.f32Store(0);
      else f.v128Store(16 * v);
    }
  }
}

/**
 * `while (limit - counter >= size) { body(); counter += size }` for each size in turn
 * (`once` sizes run at most one time).
 */
function emitBlocks(
  f: FunctionBuilder,
  counter: Local,
  limit: Local,
  sizes: readonly { size: number; once: boolean }[],
  body: (size: number) => void,
): void {
  f.i32Const(0).set(counter);
  for (const { size, once } of sizes) {
    f.block().loop();
    f.get(limit).get(counter).i32Sub().i32Const(size).i32LtS().brIf(1);
    body(size);
    f.addTo(counter, size);
    if (!once) f.br(0);
    f.end().end();
  }
}

const ROW_BLOCKS = [
  { size: TILE_ROWS, once: false },
  { size: 1, once: false },
] as const;
const COLUMN_BLOCKS = [
  { size: TILE_COLS, once: false },
  { size: 4, once: true },
  { size: 1, once: false },
] as const;

/**
 * Rows outside, columns inside: a row block of A (4 x K floats) stays in L1 while the K-block of
 * B streams from L2. (Columns outside measured slower or equal on every shape we train.)
 */
function emitSweep(ctx: TileContext, M: Local, N: Local): void {
  emitBlocks(ctx.f, ctx.i, M, ROW_BLOCKS, (rows) => {
    emitBlocks(ctx.f, ctx.j, N, COLUMN_BLOCKS, (cols) => emitTile(ctx, rows, cols));
  });
}

/** C (+)= A·B with A and C rows given by offset tables. */
export function buildGemmNN(): FunctionBuilder {
  const f = new FunctionBuilder('gemm_nn', [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [M, N, K, aRows, aOff, B, ldb, cRows, cOff, accumulate] = Array.from({ length: 10 }, (_, n) =>
    f.param(n),
  );
  const i = f.local(I32);
  const rowA = Array.from({ length: TILE_ROWS }, () => f.local(I32));
  const rowC = Array.from({ length: TILE_ROWS }, () => f.local(I32));
  const pa = Array.from({ length: TILE_ROWS }, () => f.local(I32));
  const ctx: TileContext = {
    f,
    i,
    j: f.local(I32),
    K: K,
    k: f.local(I32),
    pb: f.local(I32),
    accumulate: accumulate,
    setupRows: (rows) => {
      for (let r = 0; r < rows; r++) {
        // rowA[r] = rows_a[i + r] + aOff; rowC[r] = rows_c[i + r] + cOff
        f.get(aRows)
          .get(i)
          .i32Const(4)
          .i32Mul()
          .i32Add()
          .i32Load(4 * r)
          .get(aOff)
          .i32Add()
          .set(rowA[r]);
        f.get(cRows)
          .get(i)
          .i32Const(4)
          .i32Mul()
          .i32Add()
          .i32Load(4 * r)
          .get(cOff)
          .i32Add()
          .set(rowC[r]);
      }
    },
    cRow: (r) => f.get(rowC[r]),
    reset: (rows) => {
      f.get(B).get(ctx.j).i32Const(4).i32Mul().i32Add().set(ctx.pb);
      for (let r = 0; r < rows; r++) f.get(rowA[r]).set(pa[r]);
    },
    aAddress: (r) => {
      f.get(pa[r]);
      return 0;
    },
    advance: (rows) => {
      f.addTo(ctx.pb, ldb);
      for (let r = 0; r < rows; r++) f.addTo(pa[r], 4);
    },
  };
  emitSweep(ctx, M, N);
  return f;
}

/** C (+)= Aᵀ·B where A's rows (along k) come from an offset table. */
export function buildGemmTN(): FunctionBuilder {
  const f = new FunctionBuilder('gemm_tn', [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [M, N, K, A, kRows, B, ldb, C, ldc, accumulate] = Array.from({ length: 10 }, (_, n) => f.param(n));
  const i = f.local(I32);
  const pk = f.local(I32);
  const aBase = f.local(I32);
  const aAddr = f.local(I32);
  const rowC = f.local(I32);
  const ctx: TileContext = {
    f,
    i,
    j: f.local(I32),
    K: K,
    k: f.local(I32),
    pb: f.local(I32),
    accumulate: accumulate,
    setupRows: () => {
      f.get(A).get(i).i32Const(4).i32Mul().i32Add().set(aBase);
      f.get(C).get(i).get(ldc).i32Mul().i32Add().set(rowC);
    },
    cRow: (r) => {
      f.get(rowC);
      if (r > 0) f.i32Const(r).get(ldc).i32Mul().i32Add();
    },
    reset: () => {
      f.get(B).get(ctx.j).i32Const(4).i32Mul().i32Add().set(ctx.pb);
      f.get(kRows).set(pk);
    },
    aAddress: (r) => {
      // One table read per k serves the whole tile: rows i..i+3 of Aᵀ are adjacent floats.
      if (r === 0) f.get(pk).i32Load(0).get(aBase).i32Add().set(aAddr);
      f.get(aAddr);
      return 4 * r;
    },
    advance: () => {
      f.addTo(ctx.pb, ldb);
      f.addTo(pk, 4);
    },
  };
  emitSweep(ctx, M, N);
  return f;
}
