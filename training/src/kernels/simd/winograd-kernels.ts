/**
 * Generators of the Winograd transforms for 3x3, stride-1 convolutions (Lavin & Gray 2016):
 * F(2x2, 3x3) for the forward pass, F(3x3, 2x2) for the filter gradient. Each multiplies 16
 * elementwise products per 2x2 output tile instead of 36, so the matrix products (16 per
 * convolution, one per transformed position e = 4ξ + ν) do 2.25x less work; the transforms are
 * additions, four channels per SIMD step.
 *
 * Layouts (pointers are byte offsets, `stride` = bytes between the 16 matrices). Tiles are
 * numbered t = (n·TH + i)·TW + j; the tile kernels process tiles t0 .. t0+count-1 and store tile
 * t at row t − t0 of their matrices, so the caller can work through a network in cache-sized chunks.
 * - input tiles  V[e][t][c] from the 4x4 input patch at rows 2i.., cols 2j..
 * - filter       U[e][c][k] from g[kh][kw][c][k] (TF layout)
 * - products     M[e][t][k]  ->  output y[n][2i + a][2j + b][k]
 * - dy tiles     D[e][t][k] from the 2x2 dy patch at rows 2i.., cols 2j..
 * - filter grad  dW[kh][kw][c][k] from the summed products P[e][c][k]
 * Spatial sizes must be even and channel counts multiples of 4; the caller pads otherwise.
 *
 * The transform matrices below are the papers' with signs chosen so that the forward input
 * transform also serves the filter gradient (F(3x3,2x2)'s last input row is the negative of
 * F(2x2,3x3)'s; negating the last row of its dy transform compensates).
 */
import { FunctionBuilder, I32, V128, type Local } from './wasm-assembler';

type Matrix = readonly (readonly number[])[];

/** Bᵀ, input tiles (both passes). */
const INPUT: Matrix = [
  [1, 0, -1, 0],
  [0, 1, 1, 0],
  [0, -1, 1, 0],
  [0, 1, 0, -1],
];
/** G, filter (forward). */
const FILTER: Matrix = [
  [1, 0, 0],
  [0.5, 0.5, 0.5],
  [0.5, -0.5, 0.5],
  [0, 0, 1],
];
/** Aᵀ, output (forward). */
const OUTPUT: Matrix = [
  [1, 1, 1, 0],
  [0, 1, -1, -1],
];
/** G', dy tiles (filter gradient). */
const GRAD: Matrix = [
  [1, 0],
  [0.5, 0.5],
  [0.5, -0.5],
  [0, -1],
];
/** A'ᵀ, filter gradient output. */
const FILTER_GRAD: Matrix = [
  [1, 1, 1, 0],
  [0, 1, -1, 0],
  [0, 1, 1, 1],
];

/**
 * Emits Σ row[i]·inputs[i] for one matrix row. Coefficients are ±1, or all ±½ (a signed sum
 * halved once), which is what the Winograd matrices above contain.
 */
function emitRow(f: FunctionBuilder, row: readonly number[], inputs: Local[]): void {
  const terms = row
    .map((coefficient, i) => [coefficient, i] as const)
    .filter(([coefficient]) => coefficient !== 0);
  const half = Math.abs(terms[0][0]) === 0.5;
  terms.forEach(([coefficient, i], n) => {
    f.get(inputs[i]);
    if (n === 0) {
      if (coefficient < 0) f.f32x4Neg();
    } else if (coefficient > 0) f.f32x4Add();
    else f.f32x4Sub();
  });
  if (half) f.f32x4Const([0.5, 0.5, 0.5, 0.5]).f32x4Mul();
}

/**
 * Y = T·X·Tᵀ for one block of four channels. `load(r, c)` pushes the address of input (r, c),
 * `store(r, c)` that of output (r, c). Works one output row at a time to keep few vectors live.
 */
function emitTransform2D(
  f: FunctionBuilder,
  transform: Matrix,
  load: (row: number, col: number) => void,
  store: (row: number, col: number) => void,
): void {
  const inSize = transform[0].length;
  const column = Array.from({ length: inSize }, () => f.local(V128));
  const row = Array.from({ length: inSize }, () => f.local(V128));
  transform.forEach((coefficients, r) => {
    // row[c] = Σ_i T[r][i]·X[i][c]
    for (let c = 0; c < inSize; c++) {
      coefficients.forEach((coefficient, i) => {
        if (coefficient === 0) return;
        load(i, c);
        f.v128Load(0).set(column[i]);
      });
      emitRow(f, coefficients, column);
      f.set(row[c]);
    }
    // Y[r][c'] = Σ_j T[c'][j]·row[j]
    transform.forEach((colCoefficients, c) => {
      store(r, c);
      emitRow(f, colCoefficients, row);
      f.v128Store(0);
    });
  });
}

/**
 * The loop over tiles t0 .. t0+count-1 and over blocks of four channels, with the tile's
 * (n, i, j) decoded and `corner` = byte offset of its top-left element (channel 0) in a tensor of
 * `rows` x `cols` pixels per image with `pixelBytes` per pixel.
 */
function emitTileLoop(
  f: FunctionBuilder,
  p: {
    t0: Local;
    count: Local;
    TH: Local;
    TW: Local;
    channels: Local;
    rows: Local;
    cols: Local;
    base: Local;
  },
  body: (corner: Local, tileRow: Local, c: Local, rowBytes: Local, pixelBytes: Local) => void,
): void {
  const [t, n, i, j, c, rest] = Array.from({ length: 6 }, () => f.local(I32));
  const [pixelBytes, rowBytes, corner, end, tileRow, perImage] = Array.from({ length: 6 }, () =>
    f.local(I32),
  );
  f.get(p.channels).i32Const(4).i32Mul().set(pixelBytes);
  f.get(p.cols).get(pixelBytes).i32Mul().set(rowBytes);
  f.get(p.TH).get(p.TW).i32Mul().set(perImage);
  f.get(p.t0).get(p.count).i32Add().set(end);
  f.forRange(t, p.t0, end, 1, () => {
    f.get(t).get(perImage).i32DivU().set(n);
    f.get(t).get(perImage).i32RemU().set(rest);
    f.get(rest).get(p.TW).i32DivU().set(i);
    f.get(rest).get(p.TW).i32RemU().set(j);
    f.get(t).get(p.t0).i32Sub().set(tileRow);
    // corner = base + ((n·rows + 2i)·cols + 2j)·pixelBytes
    f.get(p.base).get(n).get(p.rows).i32Mul().get(i).i32Const(2).i32Mul().i32Add();
    f.get(p.cols).i32Mul().get(j).i32Const(2).i32Mul().i32Add().get(pixelBytes).i32Mul().i32Add();
    f.set(corner);
    f.forRange(c, 0, p.channels, 4, () => body(corner, tileRow, c, rowBytes, pixelBytes));
  });
}

/** Pushes base + 4c + r·rowBytes + col·pixelBytes. */
function emitPixel(
  f: FunctionBuilder,
  base: Local,
  c: Local,
  r: number,
  col: number,
  rowBytes: Local,
  pixelBytes: Local,
): void {
  f.get(base).get(c).i32Const(4).i32Mul().i32Add();
  f.i32Const(r).get(rowBytes).i32Mul().i32Add().i32Const(col).get(pixelBytes).i32Mul().i32Add();
}

/** Pushes out + (e·stride) + tileRow·pixelBytes + 4c: element (tile, c) of transformed matrix e. */
function emitMatrixElement(
  f: FunctionBuilder,
  out: Local,
  e: number,
  stride: Local,
  tileRow: Local,
  pixelBytes: Local,
  c: Local,
): void {
  f.get(out).i32Const(e).get(stride).i32Mul().i32Add();
  f.get(tileRow).get(pixelBytes).i32Mul().i32Add().get(c).i32Const(4).i32Mul().i32Add();
}

/**
 * A tile transform `name(H, W, C, TH, TW, t0, count, from, to, stride)` between a tensor of
 * H x W pixels and the 16 transformed matrices (`stride` bytes apart): `T·tile·Tᵀ` per tile and
 * four channels. `pixelsFirst` says which side `from` is.
 */
function buildTileTransform(name: string, transform: Matrix, pixelsFirst: boolean): FunctionBuilder {
  const f = new FunctionBuilder(
    name,
    Array.from({ length: 10 }, () => I32),
  );
  const [H, W, C, TH, TW, t0, count, from, to, stride] = Array.from({ length: 10 }, (_, i) => f.param(i));
  const [pixels, matrices] = pixelsFirst ? [from, to] : [to, from];
  const p = { t0: t0, count: count, TH: TH, TW: TW, channels: C, rows: H, cols: W, base: pixels };
  emitTileLoop(f, p, (corner, tileRow, c, rowBytes, pixelBytes) => {
    const pixel = (r: number, col: number) => emitPixel(f, corner, c, r, col, rowBytes, pixelBytes);
    const element = (r: number, col: number) =>
      emitMatrixElement(f, matrices, r * 4 + col, stride, tileRow, pixelBytes, c);
    emitTransform2D(f, transform, pixelsFirst ? pixel : element, pixelsFirst ? element : pixel);
  });
  return f;
}

/** `wino_input(H, W, C, TH, TW, t0, count, X, V, stride)`: V from input tiles. */
export function buildWinogradInput(): FunctionBuilder {
  return buildTileTransform('wino_input', INPUT, true);
}

/** `wino_output(OH, OW, K, TH, TW, t0, count, M, Y, stride)`: output tiles from the products. */
export function buildWinogradOutput(): FunctionBuilder {
  return buildTileTransform('wino_output', OUTPUT, false);
}

/** `wino_dy(OH, OW, K, TH, TW, t0, count, DY, D, stride)`: dy's 2x2 tiles for the filter gradient. */
export function buildWinogradGradTiles(): FunctionBuilder {
  return buildTileTransform('wino_dy', GRAD, true);
}

/** Emits the loop over (c, four k) of a [C][K] matrix, with `at` = its byte offset. */
function emitChannelPairs(f: FunctionBuilder, C: Local, K: Local, body: (at: Local) => void): void {
  const c = f.local(I32);
  const k = f.local(I32);
  const at = f.local(I32);
  f.forRange(c, 0, C, 1, () => {
    f.forRange(k, 0, K, 4, () => {
      f.get(c).get(K).i32Mul().get(k).i32Add().i32Const(4).i32Mul().set(at);
      body(at);
    });
  });
}

/** `wino_filter(C, K, G, U, stride)`: U from the [3][3][C][K] filter. */
export function buildWinogradFilter(): FunctionBuilder {
  const f = new FunctionBuilder(
    'wino_filter',
    Array.from({ length: 5 }, () => I32),
  );
  const [C, K, G, U, stride] = Array.from({ length: 5 }, (_, i) => f.param(i)) as Local[];
  const tapBytes = f.local(I32);
  f.get(C).get(K).i32Mul().i32Const(4).i32Mul().set(tapBytes);
  emitChannelPairs(f, C, K, (at) => {
    emitTransform2D(
      f,
      FILTER,
      (kh, kw) =>
        f
          .get(G)
          .get(at)
          .i32Add()
          .i32Const(kh * 3 + kw)
          .get(tapBytes)
          .i32Mul()
          .i32Add(),
      (r, col) =>
        f
          .get(U)
          .get(at)
          .i32Add()
          .i32Const(r * 4 + col)
          .get(stride)
          .i32Mul()
          .i32Add(),
    );
  });
  return f;
}

/** `wino_filter_grad(C, K, P, DW, stride)`: the [3][3][C][K] filter gradient from the summed products. */
export function buildWinogradFilterGradOutput(): FunctionBuilder {
  const f = new FunctionBuilder(
    'wino_filter_grad',
    Array.from({ length: 5 }, () => I32),
  );
  const [C, K, P, DW, stride] = Array.from({ length: 5 }, (_, i) => f.param(i)) as Local[];
  const tapBytes = f.local(I32);
  f.get(C).get(K).i32Mul().i32Const(4).i32Mul().set(tapBytes);
  emitChannelPairs(f, C, K, (at) => {
    emitTransform2D(
      f,
      FILTER_GRAD,
      (r, col) =>
        f
          .get(P)
          .get(at)
          .i32Add()
          .i32Const(r * 4 + col)
          .get(stride)
          .i32Mul()
          .i32Add(),
      (kh, kw) =>
        f
          .get(DW)
          .get(at)
          .i32Add()
          .i32Const(kh * 3 + kw)
          .get(tapBytes)
          .i32Mul()
          .i32Add(),
    );
  });
  return f;
}
