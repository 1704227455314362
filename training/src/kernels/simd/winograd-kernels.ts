/**
 * Generators of the Winograd transforms for 3x3, stride-1 convolutions (Lavin & Gray 2016):
 * F(2x2, 3x3) for the forward pass, F(3x3, 2x2) for the filter gradient.
 * Each multiplies 16 elementwise products per 2x2 output tile instead of 36, so the matrix
 * products (16 per convolution, one per transformed position e = 4ξ + ν) do 2.25x less work;
 * the transforms are additions, four channels per SIMD step.
 *
 * Layouts (all pointers byte offsets, `stride` = bytes between the 16 matrices):
 * - input tiles  V[e][t][c]: t = (n·TH + i)·TW + j, the 4x4 input patch at rows 2i.., cols 2j..
 * - filter       U[e][c][k] from g[kh][kw][c][k] (TF layout)
 * - products     M[e][t][k]
 * - output       y[n][2i + a][2j + b][k]
 * - dy tiles     D[e][t][k] from the 2x2 dy patch at rows 2i.., cols 2j..
 * - filter grad  dW[kh][kw][c][k] from Wt[e][c][k]
 * Spatial sizes must be even and channel counts multiples of 4; the caller pads otherwise.
 *
 * Transforms, with ± signs chosen so the forward input transform also serves the filter
 * gradient (F(3x3,2x2)'s last input row is the negative of F(2x2,3x3)'s; its dy transform
 * negates the last row to match):
 *   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]       (input, both)
 *   G  = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]                  (filter, forward)
 *   Aᵀ = [1 1 1 0; 0 1 −1 −1]                           (output, forward)
 *   G' = [1 0; ½ ½; ½ −½; 0 −1]                         (dy, filter gradient)
 *   A'ᵀ = [1 1 1 0; 0 1 −1 0; 0 1 1 1]                  (output, filter gradient)
 */
import { FunctionBuilder, I32, V128, type Local } from './wasm-assembler';

/** One output of a transform row: a signed sum of inputs, optionally halved. */
interface Term {
  /** [input index, sign]. */
  parts: [number, 1 | -1][];
  half?: boolean;
}

const INPUT_TERMS: Term[] = [
  {
    parts: [
      [0, 1],
      [2, -1],
    ],
  },
  {
    parts: [
      [1, 1],
      [2, 1],
    ],
  },
  {
    parts: [
      [2, 1],
      [1, -1],
    ],
  },
  {
    parts: [
      [1, 1],
      [3, -1],
    ],
  },
];
const FILTER_TERMS: Term[] = [
  { parts: [[0, 1]] },
  {
    parts: [
      [0, 1],
      [1, 1],
      [2, 1],
    ],
    half: true,
  },
  {
    parts: [
      [0, 1],
      [1, -1],
      [2, 1],
    ],
    half: true,
  },
  { parts: [[2, 1]] },
];
const OUTPUT_TERMS: Term[] = [
  {
    parts: [
      [0, 1],
      [1, 1],
      [2, 1],
    ],
  },
  {
    parts: [
      [1, 1],
      [2, -1],
      [3, -1],
    ],
  },
];
const DY_TERMS: Term[] = [
  { parts: [[0, 1]] },
  {
    parts: [
      [0, 1],
      [1, 1],
    ],
    half: true,
  },
  {
    parts: [
      [0, 1],
      [1, -1],
    ],
    half: true,
  },
  { parts: [[1, -1]] },
];
const FILTER_GRAD_OUTPUT_TERMS: Term[] = [
  {
    parts: [
      [0, 1],
      [1, 1],
      [2, 1],
    ],
  },
  {
    parts: [
      [1, 1],
      [2, -1],
    ],
  },
  {
    parts: [
      [1, 1],
      [2, 1],
      [3, 1],
    ],
  },
];

/** Emits the vector value of `term` over the input vectors `inputs`. */
function emitTerm(f: FunctionBuilder, term: Term, inputs: Local[]): void {
  const [first, ...rest] = term.parts;
  f.get(inputs[first![0]]!);
  if (first![1] === -1) f.f32x4Neg();
  for (const [index, sign] of rest) {
    f.get(inputs[index]!);
    if (sign === 1) f.f32x4Add();
    else f.f32x4Sub();
  }
  if (term.half) f.f32x4Const([0.5, 0.5, 0.5, 0.5]).f32x4Mul();
}

/**
 * The 2D transform Y = T X Tᵀ of one block of four channels: `load(r, c)` pushes the address of
 * input (r, c) (r, c < inSize), `store(r, c)` the address of output (r, c).
 */
function emitTransform2D(
  f: FunctionBuilder,
  terms: Term[],
  inSize: number,
  load: (row: number, col: number) => void,
  store: (row: number, col: number) => void,
): void {
  // Row pass: tmp[r][c] = Σ T[r][i]·X[i][c], one output row at a time to keep few values live.
  const inputs = Array.from({ length: inSize }, () => f.local(V128));
  const row = Array.from({ length: inSize }, () => f.local(V128));
  terms.forEach((rowTerm, r) => {
    for (let c = 0; c < inSize; c++) {
      // Load the column c of the inputs this row term needs, then combine.
      for (const [index] of rowTerm.parts) {
        load(index, c);
        f.v128Load(0).set(inputs[index]!);
      }
      emitTerm(f, rowTerm, inputs);
      f.set(row[c]!);
    }
    // Column pass on this row: out[r][c'] = Σ T[c'][j]·tmp[r][j].
    terms.forEach((colTerm, c) => {
      store(r, c);
      emitTerm(f, colTerm, row);
      f.v128Store(0);
    });
  });
}

/** `wino_input(N, H, W, C, TH, TW, X, V, stride)`. */
export function buildWinogradInput(): FunctionBuilder {
  const f = new FunctionBuilder(
    'wino_input',
    Array.from({ length: 9 }, () => I32),
  );
  const [N, H, W, C, TH, TW, X, V, stride] = Array.from({ length: 9 }, (_, i) => f.param(i)) as Local[];
  const [n, i, j, c] = Array.from({ length: 4 }, () => f.local(I32));
  const pixel = f.local(I32);
  const rowBytes = f.local(I32);
  const corner = f.local(I32);
  const out = f.local(I32);
  f.get(C!).i32Const(4).i32Mul().set(pixel);
  f.get(W!).get(pixel).i32Mul().set(rowBytes);
  f.get(V!).set(out);
  f.forRange(n, 0, N!, 1, () => {
    f.forRange(i, 0, TH!, 1, () => {
      f.forRange(j, 0, TW!, 1, () => {
        // corner = X + ((n·H + 2i)·W + 2j)·C·4
        f.get(X!)
          .get(n)
          .get(H!)
          .i32Mul()
          .get(i)
          .i32Const(2)
          .i32Mul()
          .i32Add()
          .get(rowBytes)
          .i32Mul()
          .i32Add();
        f.get(j).i32Const(2).i32Mul().get(pixel).i32Mul().i32Add().set(corner);
        f.forRange(c, 0, C!, 4, () => {
          emitTransform2D(
            f,
            INPUT_TERMS,
            4,
            (r, col) => {
              f.get(corner).get(c).i32Const(4).i32Mul().i32Add();
              f.i32Const(r).get(rowBytes).i32Mul().i32Add().i32Const(col).get(pixel).i32Mul().i32Add();
            },
            (r, col) => {
              f.get(out).get(c).i32Const(4).i32Mul().i32Add();
              f.i32Const(r * 4 + col)
                .get(stride!)
                .i32Mul()
                .i32Add();
            },
          );
        });
        f.addTo(out, pixel);
      });
    });
  });
  return f;
}

/** `wino_filter(C, K, G, U, stride)`. */
export function buildWinogradFilter(): FunctionBuilder {
  const f = new FunctionBuilder(
    'wino_filter',
    Array.from({ length: 5 }, () => I32),
  );
  const [C, K, G, U, stride] = Array.from({ length: 5 }, (_, i) => f.param(i)) as Local[];
  const c = f.local(I32);
  const k = f.local(I32);
  const tapBytes = f.local(I32);
  const at = f.local(I32);
  f.get(C!).get(K!).i32Mul().i32Const(4).i32Mul().set(tapBytes);
  f.forRange(c, 0, C!, 1, () => {
    f.forRange(k, 0, K!, 4, () => {
      // at = byte offset of (c, k) within one tap (and within one U matrix)
      f.get(c).get(K!).i32Mul().get(k).i32Add().i32Const(4).i32Mul().set(at);
      emitTransform2D(
        f,
        FILTER_TERMS,
        3,
        (kh, kw) => {
          f.get(G!)
            .get(at)
            .i32Add()
            .i32Const(kh * 3 + kw)
            .get(tapBytes)
            .i32Mul()
            .i32Add();
        },
        (r, col) => {
          f.get(U!)
            .get(at)
            .i32Add()
            .i32Const(r * 4 + col)
            .get(stride!)
            .i32Mul()
            .i32Add();
        },
      );
    });
  });
  return f;
}

/** `wino_output(N, OH, OW, K, TH, TW, M, Y, stride)`. */
export function buildWinogradOutput(): FunctionBuilder {
  const f = new FunctionBuilder(
    'wino_output',
    Array.from({ length: 9 }, () => I32),
  );
  const [N, OH, OW, K, TH, TW, M, Y, stride] = Array.from({ length: 9 }, (_, i) => f.param(i)) as Local[];
  const [n, i, j, k] = Array.from({ length: 4 }, () => f.local(I32));
  const pixel = f.local(I32);
  const rowBytes = f.local(I32);
  const corner = f.local(I32);
  const src = f.local(I32);
  f.get(K!).i32Const(4).i32Mul().set(pixel);
  f.get(OW!).get(pixel).i32Mul().set(rowBytes);
  f.get(M!).set(src);
  f.forRange(n, 0, N!, 1, () => {
    f.forRange(i, 0, TH!, 1, () => {
      f.forRange(j, 0, TW!, 1, () => {
        f.get(Y!)
          .get(n)
          .get(OH!)
          .i32Mul()
          .get(i)
          .i32Const(2)
          .i32Mul()
          .i32Add()
          .get(rowBytes)
          .i32Mul()
          .i32Add();
        f.get(j).i32Const(2).i32Mul().get(pixel).i32Mul().i32Add().set(corner);
        f.forRange(k, 0, K!, 4, () => {
          emitTransform2D(
            f,
            OUTPUT_TERMS,
            4,
            (r, col) => {
              f.get(src)
                .get(k)
                .i32Const(4)
                .i32Mul()
                .i32Add()
                .i32Const(r * 4 + col)
                .get(stride!)
                .i32Mul()
                .i32Add();
            },
            (a, b) => {
              f.get(corner).get(k).i32Const(4).i32Mul().i32Add();
              f.i32Const(a).get(rowBytes).i32Mul().i32Add().i32Const(b).get(pixel).i32Mul().i32Add();
            },
          );
        });
        f.addTo(src, pixel);
      });
    });
  });
  return f;
}

/** `wino_dy(N, OH, OW, K, TH, TW, DY, D, stride)`: dy's 2x2 tiles for the filter gradient. */
export function buildWinogradGradTiles(): FunctionBuilder {
  const f = new FunctionBuilder(
    'wino_dy',
    Array.from({ length: 9 }, () => I32),
  );
  const [N, OH, OW, K, TH, TW, DY, D, stride] = Array.from({ length: 9 }, (_, i) => f.param(i)) as Local[];
  const [n, i, j, k] = Array.from({ length: 4 }, () => f.local(I32));
  const pixel = f.local(I32);
  const rowBytes = f.local(I32);
  const corner = f.local(I32);
  const out = f.local(I32);
  f.get(K!).i32Const(4).i32Mul().set(pixel);
  f.get(OW!).get(pixel).i32Mul().set(rowBytes);
  f.get(D!).set(out);
  f.forRange(n, 0, N!, 1, () => {
    f.forRange(i, 0, TH!, 1, () => {
      f.forRange(j, 0, TW!, 1, () => {
        f.get(DY!)
          .get(n)
          .get(OH!)
          .i32Mul()
          .get(i)
          .i32Const(2)
          .i32Mul()
          .i32Add()
          .get(rowBytes)
          .i32Mul()
          .i32Add();
        f.get(j).i32Const(2).i32Mul().get(pixel).i32Mul().i32Add().set(corner);
        f.forRange(k, 0, K!, 4, () => {
          emitTransform2D(
            f,
            DY_TERMS,
            2,
            (a, b) => {
              f.get(corner).get(k).i32Const(4).i32Mul().i32Add();
              f.i32Const(a).get(rowBytes).i32Mul().i32Add().i32Const(b).get(pixel).i32Mul().i32Add();
            },
            (r, col) => {
              f.get(out)
                .get(k)
                .i32Const(4)
                .i32Mul()
                .i32Add()
                .i32Const(r * 4 + col)
                .get(stride!)
                .i32Mul()
                .i32Add();
            },
          );
        });
        f.addTo(out, pixel);
      });
    });
  });
  return f;
}

/** `wino_filter_grad(C, K, WT, DW, stride)`: the 3x3 filter gradient from the 16 summed products. */
export function buildWinogradFilterGradOutput(): FunctionBuilder {
  const f = new FunctionBuilder(
    'wino_filter_grad',
    Array.from({ length: 5 }, () => I32),
  );
  const [C, K, WT, DW, stride] = Array.from({ length: 5 }, (_, i) => f.param(i)) as Local[];
  const c = f.local(I32);
  const k = f.local(I32);
  const tapBytes = f.local(I32);
  const at = f.local(I32);
  f.get(C!).get(K!).i32Mul().i32Const(4).i32Mul().set(tapBytes);
  f.forRange(c, 0, C!, 1, () => {
    f.forRange(k, 0, K!, 4, () => {
      f.get(c).get(K!).i32Mul().get(k).i32Add().i32Const(4).i32Mul().set(at);
      emitTransform2D(
        f,
        FILTER_GRAD_OUTPUT_TERMS,
        4,
        (r, col) => {
          f.get(WT!)
            .get(at)
            .i32Add()
            .i32Const(r * 4 + col)
            .get(stride!)
            .i32Mul()
            .i32Add();
        },
        (kh, kw) => {
          f.get(DW!)
            .get(at)
            .i32Add()
            .i32Const(kh * 3 + kw)
            .get(tapBytes)
            .i32Mul()
            .i32Add();
        },
      );
    });
  });
  return f;
}
