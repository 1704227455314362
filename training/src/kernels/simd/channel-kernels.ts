/**
 * Generator of the per-channel affine map BatchNorm applies:
 * `channel_affine(R, C, X, MEAN, GAIN, OFFSET, OUT)`: OUT[r][c] = (X[r][c] − MEAN[c])·GAIN[c] + OFFSET[c].
 * The stock wasm FusedBatchNorm is a scalar loop (measured ~5 ns per element); this is one SIMD
 * pass with the channel parameters held in registers. Pointers are byte offsets.
 */
import { add, emitChunkedColumns, load, mul, store, sub } from './column-loops';
import { F32, FunctionBuilder, I32, V128, type Local } from './wasm-assembler';

export function buildChannelAffine(): FunctionBuilder {
  const f = new FunctionBuilder('channel_affine', [I32, I32, I32, I32, I32, I32, I32]);
  const [R, C, X, MEAN, GAIN, OFFSET, OUT] = [0, 1, 2, 3, 4, 5, 6].map((n) => f.param(n)) as Local[];
  emitChunkedColumns(f, R, C, [16, 4, 1], (width) => {
    const vectors = width === 1 ? 1 : width / 4;
    const type = width === 1 ? F32 : V128;
    const mean = Array.from({ length: vectors }, () => f.local(type));
    const gain = Array.from({ length: vectors }, () => f.local(type));
    const offset = Array.from({ length: vectors }, () => f.local(type));
    const value = f.local(type);
    const at = (base: Local, c: Local) => () => f.get(base).get(c).i32Const(4).i32Mul().i32Add();
    return {
      width,
      begin: (c) => {
        for (let v = 0; v < vectors; v++) {
          load(f, width, at(MEAN, c), v, mean[v]);
          load(f, width, at(GAIN, c), v, gain[v]);
          load(f, width, at(OFFSET, c), v, offset[v]);
        }
      },
      row: (rowOffset) => {
        for (let v = 0; v < vectors; v++) {
          load(f, width, () => f.get(X).get(rowOffset).i32Add(), v, value);
          f.get(value).get(mean[v]);
          sub(f, width);
          f.get(gain[v]);
          mul(f, width);
          f.get(offset[v]);
          add(f, width);
          f.set(value);
          store(f, width, () => f.get(OUT).get(rowOffset).i32Add(), v, value);
        }
      },
      finish: () => undefined,
    };
  });
  return f;
}
