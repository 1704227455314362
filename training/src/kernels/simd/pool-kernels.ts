/**
 * Generator of the max-pooling gradient over NHWC, unpadded windows, channels a multiple of 4:
 * `max_pool_grad(N, H, W, C, OH, OW, KH, KW, SH, SW, X, DY, DX)` adds each dy to the first maximum
 * of its window in row-major order (the cpu backend's rule), four channels at a time. DX must be
 * zero-filled by the caller. Pointers are byte offsets.
 */
import { FunctionBuilder, I32, V128, type Local } from './wasm-assembler';

export function buildMaxPoolGrad(): FunctionBuilder {
  const f = new FunctionBuilder(
    'max_pool_grad',
    Array.from({ length: 13 }, () => I32),
  );
  const [N, H, W, C, OH, OW, KH, KW, SH, SW, X, DY, DX] = Array.from({ length: 13 }, (_, n) =>
    f.param(n),
  ) as Local[];
  const [n, oh, ow, c, kh, kw] = Array.from({ length: 6 }, () => f.local(I32));
  const pixelBytes = f.local(I32);
  const rowBytes = f.local(I32);
  const corner = f.local(I32);
  const offset = f.local(I32);
  const dyAt = f.local(I32);
  const target = f.local(I32);
  const best = f.local(V128);
  const where = f.local(V128);
  const value = f.local(V128);
  const greater = f.local(V128);
  const grad = f.local(V128);

  f.get(C).i32Const(4).i32Mul().set(pixelBytes);
  f.get(W).get(pixelBytes).i32Mul().set(rowBytes);
  f.get(DY).set(dyAt);
  f.forRange(n, 0, N, 1, () => {
    f.forRange(oh, 0, OH, 1, () => {
      f.forRange(ow, 0, OW, 1, () => {
        // corner = byte offset of the window's top-left pixel, channel 0
        f.get(n).get(H).i32Mul().get(oh).get(SH).i32Mul().i32Add().get(rowBytes).i32Mul();
        f.get(ow).get(SW).i32Mul().get(pixelBytes).i32Mul().i32Add().set(corner);
        f.forRange(c, 0, C, 4, () => {
          f.f32x4Const([-Infinity, -Infinity, -Infinity, -Infinity]).set(best);
          f.v128Zero().set(where);
          f.forRange(kh, 0, KH, 1, () => {
            f.forRange(kw, 0, KW, 1, () => {
              f.get(corner).get(kh).get(rowBytes).i32Mul().i32Add().get(kw).get(pixelBytes).i32Mul().i32Add();
              f.get(c).i32Const(4).i32Mul().i32Add().set(offset);
              f.get(X).get(offset).i32Add().v128Load(0).set(value);
              // Strictly greater: the first maximum keeps the gradient, as on the cpu backend.
              f.get(value).get(best).f32x4Gt().set(greater);
              f.get(value).get(best).get(greater).v128Bitselect().set(best);
              f.get(offset).i32x4Splat().i32x4Const([0, 4, 8, 12]).i32x4Add();
              f.get(where).get(greater).v128Bitselect().set(where);
            });
          });
          f.get(dyAt).v128Load(0).set(grad);
          f.addTo(dyAt, 16);
          for (let lane = 0; lane < 4; lane++) {
            f.get(DX).get(where).i32x4ExtractLane(lane).i32Add().set(target);
            f.get(target).get(target).f32Load(0).get(grad).f32x4ExtractLane(lane).f32Add().f32Store(0);
          }
        });
      });
    });
  });
  return f;
}
