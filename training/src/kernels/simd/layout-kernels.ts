/**
 * Generators of the data-movement kernels around the matrix products:
 * - `transpose_blocks(B, R, C, IN, OUT)`: OUT[b][c][r] = IN[b][r][c] for b < B; R and C multiples of 4
 *   (4x4 register transposes). Used to lay a filter out as [tap][out][in] for the input gradient.
 * - `col2im_add(P, segments, length, COLS, ROWS, DX, segmentStride)`: for each p and segment s,
 *   DX[rows[p] + s·segmentStride + e] += COLS[(p·segments + s)·length + e] for e < length. Scatters the
 *   input-gradient columns of a convolution with few input channels back onto dx.
 * All pointers and strides are byte offsets.
 */
import { FunctionBuilder, I32, V128, type Local } from './wasm-assembler';

/** f32 lane indices (0-3 first operand, 4-7 second) to i8x16.shuffle byte indices. */
function lanes(...floats: number[]): number[] {
  return floats.flatMap((lane) => [4 * lane, 4 * lane + 1, 4 * lane + 2, 4 * lane + 3]);
}

export function buildTransposeBlocks(): FunctionBuilder {
  const f = new FunctionBuilder('transpose_blocks', [I32, I32, I32, I32, I32]);
  const [B, R, C, IN, OUT] = [0, 1, 2, 3, 4].map((n) => f.param(n)) as [Local, Local, Local, Local, Local];
  const b = f.local(I32);
  const r = f.local(I32);
  const c = f.local(I32);
  const inRowBytes = f.local(I32);
  const outRowBytes = f.local(I32);
  const blockBytes = f.local(I32);
  const src = f.local(I32);
  const dst = f.local(I32);
  const row = Array.from({ length: 4 }, () => f.local(V128));
  const mixed = Array.from({ length: 4 }, () => f.local(V128));
  f.get(C).i32Const(4).i32Mul().set(inRowBytes);
  f.get(R).i32Const(4).i32Mul().set(outRowBytes);
  f.get(R).get(C).i32Mul().i32Const(4).i32Mul().set(blockBytes);
  f.forRange(b, 0, B, 1, () => {
    f.forRange(r, 0, R, 4, () => {
      f.forRange(c, 0, C, 4, () => {
        // src = IN + b·block + r·inRow + 4c ; dst = OUT + b·block + c·outRow + 4r
        f.get(IN).get(b).get(blockBytes).i32Mul().i32Add();
        f.get(r).get(inRowBytes).i32Mul().i32Add().get(c).i32Const(4).i32Mul().i32Add().set(src);
        f.get(OUT).get(b).get(blockBytes).i32Mul().i32Add();
        f.get(c).get(outRowBytes).i32Mul().i32Add().get(r).i32Const(4).i32Mul().i32Add().set(dst);
        for (let i = 0; i < 4; i++) {
          f.get(src);
          if (i > 0) f.get(inRowBytes).i32Const(i).i32Mul().i32Add();
          f.v128Load(0).set(row[i]);
        }
        // [a0 b0 a1 b1], [a2 b2 a3 b3], [c0 d0 c1 d1], [c2 d2 c3 d3]
        f.get(row[0])
          .get(row[1])
          .i8x16Shuffle(lanes(0, 4, 1, 5))
          .set(mixed[0]);
        f.get(row[0])
          .get(row[1])
          .i8x16Shuffle(lanes(2, 6, 3, 7))
          .set(mixed[1]);
        f.get(row[2])
          .get(row[3])
          .i8x16Shuffle(lanes(0, 4, 1, 5))
          .set(mixed[2]);
        f.get(row[2])
          .get(row[3])
          .i8x16Shuffle(lanes(2, 6, 3, 7))
          .set(mixed[3]);
        const outputs: [number, number, number[]][] = [
          [0, 2, lanes(0, 1, 4, 5)],
          [0, 2, lanes(2, 3, 6, 7)],
          [1, 3, lanes(0, 1, 4, 5)],
          [1, 3, lanes(2, 3, 6, 7)],
        ];
        outputs.forEach(([first, second, pattern], i) => {
          f.get(dst);
          if (i > 0) f.get(outRowBytes).i32Const(i).i32Mul().i32Add();
          f.get(mixed[first]).get(mixed[second]).i8x16Shuffle(pattern).v128Store(0);
        });
      });
    });
  });
  return f;
}

export function buildCol2ImAdd(): FunctionBuilder {
  const f = new FunctionBuilder('col2im_add', [I32, I32, I32, I32, I32, I32, I32]);
  const [P, S, L, COLS, ROWS, DX, SEG] = [0, 1, 2, 3, 4, 5, 6].map((n) => f.param(n)) as Local[];
  const p = f.local(I32);
  const s = f.local(I32);
  const e = f.local(I32);
  const src = f.local(I32);
  const dst = f.local(I32);
  const base = f.local(I32);
  const vectorEnd = f.local(I32);
  // Whole vectors first, then the scalar tail of each segment.
  f.get(L).i32Const(4).i32Sub().set(vectorEnd);
  f.get(COLS).set(src);
  f.forRange(p, 0, P, 1, () => {
    f.get(ROWS).get(p).i32Const(4).i32Mul().i32Add().i32Load(0).get(DX).i32Add().set(base);
    f.forRange(s, 0, S, 1, () => {
      f.get(base).get(s).get(SEG).i32Mul().i32Add().set(dst);
      f.i32Const(0).set(e);
      f.block().loop();
      f.get(e).get(vectorEnd).i32GtS().brIf(1);
      f.get(dst).get(dst).v128Load(0).get(src).v128Load(0).f32x4Add().v128Store(0);
      f.addTo(dst, 16).addTo(src, 16).addTo(e, 4);
      f.br(0);
      f.end().end();
      f.block().loop();
      f.get(e).get(L).i32GeS().brIf(1);
      f.get(dst).get(dst).f32Load(0).get(src).f32Load(0).f32Add().f32Store(0);
      f.addTo(dst, 4).addTo(src, 4).addTo(e, 1);
      f.br(0);
      f.end().end();
    });
  });
  return f;
}
