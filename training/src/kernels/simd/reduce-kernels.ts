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
import { add, emitChunkedColumns, load, mul, store, sub } from './column-loops';
import { F32, FunctionBuilder, I32, V128, type Local } from './wasm-assembler';

const COLUMN_WIDTHS = [16, 4, 1] as const;

export function buildColumnSums(): FunctionBuilder {
  const f = new FunctionBuilder('column_sums', [I32, I32, I32, I32]);
  const [R, C, X, OUT] = [0, 1, 2, 3].map((n) => f.param(n));
  emitChunkedColumns(f, R, C, COLUMN_WIDTHS, (width) => {
    const vectors = width === 1 ? 1 : width / 4;
    const type = width === 1 ? F32 : V128;
    const acc = Array.from({ length: vectors }, () => f.local(type));
    const outAt = (c: Local) => () => f.get(OUT).get(c).i32Const(4).i32Mul().i32Add();
    return {
      width,
      begin: (c) => acc.forEach((a, v) => load(f, width, outAt(c), v, a)),
      row: (rowOffset) => {
        acc.forEach((a, v) => {
          f.get(a).get(X).get(rowOffset).i32Add();
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
  f.get(C).i32Const(4).i32Mul().set(cBytes);
  emitChunkedColumns(f, R, C, [8, 4, 1], (width) => {
    const vectors = width === 1 ? 1 : width / 4;
    const type = width === 1 ? F32 : V128;
    const sumDy = Array.from({ length: vectors }, () => f.local(type));
    const sumDyXm = Array.from({ length: vectors }, () => f.local(type));
    const mean = Array.from({ length: vectors }, () => f.local(type));
    const dy = f.local(type);
    const outAt = (c: Local, second: boolean) => () => {
      f.get(OUT).get(c).i32Const(4).i32Mul().i32Add();
      if (second) f.get(cBytes).i32Add();
    };
    const meanAt = (c: Local) => () => f.get(MEAN).get(c).i32Const(4).i32Mul().i32Add();
    return {
      width,
      begin: (c) => {
        for (let v = 0; v < vectors; v++) {
          load(f, width, outAt(c, false), v, sumDy[v]);
          load(f, width, outAt(c, true), v, sumDyXm[v]);
          load(f, width, meanAt(c), v, mean[v]);
        }
      },
      row: (rowOffset) => {
        for (let v = 0; v < vectors; v++) {
          load(f, width, () => f.get(DY).get(rowOffset).i32Add(), v, dy);
          f.get(sumDy[v]).get(dy);
          add(f, width);
          f.set(sumDy[v]);
          // sumDyXm += dy * (x - mean)
          f.get(sumDyXm[v]).get(dy).get(X).get(rowOffset).i32Add();
          if (width === 1) f.f32Load(0);
          else f.v128Load(16 * v);
          f.get(mean[v]);
          sub(f, width);
          mul(f, width);
          add(f, width);
          f.set(sumDyXm[v]);
        }
      },
      finish: (c) => {
        for (let v = 0; v < vectors; v++) {
          store(f, width, outAt(c, false), v, sumDy[v]);
          store(f, width, outAt(c, true), v, sumDyXm[v]);
        }
      },
    };
  });
  return f;
}
