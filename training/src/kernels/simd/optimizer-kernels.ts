/**
 * Generators of the optimizer's elementwise work, fused into one pass each (the op-by-op AdamW
 * update reads and writes the weights' size about fourteen times):
 * - `adamw(count, P, G, M, V, outP, outM, outV, gradScale, beta1, oneMinusBeta1, beta2,
 *   oneMinusBeta2, firstCorrection, secondCorrection, decay, lr, epsilon)`, with, per element,
 *   g = G·gradScale; m = M·beta1 + g·oneMinusBeta1; v = V·beta2 + (g·g)·oneMinusBeta2;
 *   p = P·decay − (m/firstCorrection) / (sqrt(v/secondCorrection) + epsilon) · lr —
 *   the same float32 operations in the same order as the op-by-op update, so results match it.
 * - `sum_squares(count, X, OUT)`: OUT[0] = Σ X², for the global gradient norm.
 * Pointers are byte offsets; four elements per SIMD step, then a scalar tail.
 */
import { F32, FunctionBuilder, I32, V128, type Local, type ValueType } from './wasm-assembler';

type Width = 4 | 1;

/** Loops over `count` elements: vectors of four while four remain, then single elements. */
function emitElementLoop(
  f: FunctionBuilder,
  count: Local,
  body: (offset: Local, width: Width) => void,
): void {
  const i = f.local(I32);
  const offset = f.local(I32);
  f.i32Const(0).set(i);
  for (const width of [4, 1] as const) {
    f.block().loop();
    f.get(count).get(i).i32Sub().i32Const(width).i32LtS().brIf(1);
    f.get(i).i32Const(4).i32Mul().set(offset);
    body(offset, width);
    f.addTo(i, width);
    f.br(0);
    f.end().end();
  }
}

export function buildAdamW(): FunctionBuilder {
  const params: ValueType[] = [...new Array<ValueType>(8).fill(I32), ...new Array<ValueType>(10).fill(F32)];
  const f = new FunctionBuilder('adamw', params);
  const [count, P, G, M, V, outP, outM, outV] = Array.from({ length: 8 }, (_, n) => f.param(n));
  const scalars = Array.from({ length: 10 }, (_, n) => f.param(8 + n));
  const [
    gradScale,
    beta1,
    oneMinusBeta1,
    beta2,
    oneMinusBeta2,
    firstCorrection,
    secondCorrection,
    decay,
    lr,
    epsilon,
  ] = scalars;
  const splat = scalars.map(() => f.local(V128));
  scalars.forEach((scalar, n) => f.get(scalar).f32x4Splat().set(splat[n]));
  const vectorOf = new Map(scalars.map((scalar, n) => [scalar, splat[n]]));
  const lanes = {
    4: { g: f.local(V128), m: f.local(V128), v: f.local(V128) },
    1: { g: f.local(F32), m: f.local(F32), v: f.local(F32) },
  };

  emitElementLoop(f, count, (offset, width) => {
    const vector = width === 4;
    const at = (base: Local) => f.get(base).get(offset).i32Add();
    const load = (base: Local) => (vector ? at(base).v128Load(0) : at(base).f32Load(0));
    const param = (scalar: Local) => f.get(vector ? vectorOf.get(scalar)! : scalar);
    const mul = () => (vector ? f.f32x4Mul() : f.f32Mul());
    const add = () => (vector ? f.f32x4Add() : f.f32Add());
    const sub = () => (vector ? f.f32x4Sub() : f.f32Sub());
    const div = () => (vector ? f.f32x4Div() : f.f32Div());
    const sqrt = () => (vector ? f.f32x4Sqrt() : f.f32Sqrt());
    const store = (base: Local, value: Local) => {
      at(base).get(value);
      if (vector) f.v128Store(0);
      else f.f32Store(0);
    };
    const { g, m, v } = lanes[width];
    load(G);
    param(gradScale);
    mul();
    f.set(g);
    // m = M·beta1 + g·(1 − beta1)
    load(M);
    param(beta1);
    mul();
    f.get(g);
    param(oneMinusBeta1);
    mul();
    add();
    f.set(m);
    // v = V·beta2 + (g·g)·(1 − beta2)
    load(V);
    param(beta2);
    mul();
    f.get(g).get(g);
    mul();
    param(oneMinusBeta2);
    mul();
    add();
    f.set(v);
    store(outM, m);
    store(outV, v);
    // p = P·decay − (m / c1) / (sqrt(v / c2) + epsilon) · lr
    at(outP);
    load(P);
    param(decay);
    mul();
    f.get(m);
    param(firstCorrection);
    div();
    f.get(v);
    param(secondCorrection);
    div();
    sqrt();
    param(epsilon);
    add();
    div();
    param(lr);
    mul();
    sub();
    if (vector) f.v128Store(0);
    else f.f32Store(0);
  });
  return f;
}

export function buildSumSquares(): FunctionBuilder {
  const f = new FunctionBuilder('sum_squares', [I32, I32, I32]);
  const [count, X, OUT] = [0, 1, 2].map((n) => f.param(n));
  const acc = f.local(V128);
  const value = f.local(V128);
  const tail = f.local(F32);
  const scalar = f.local(F32);
  f.v128Zero().set(acc);
  f.f32Const(0).set(tail);
  emitElementLoop(f, count, (offset, width) => {
    if (width === 4) {
      f.get(X).get(offset).i32Add().v128Load(0).set(value);
      f.get(acc).get(value).get(value).f32x4Mul().f32x4Add().set(acc);
    } else {
      f.get(X).get(offset).i32Add().f32Load(0).set(scalar);
      f.get(tail).get(scalar).get(scalar).f32Mul().f32Add().set(tail);
    }
  });
  f.get(OUT);
  for (let lane = 0; lane < 4; lane++) {
    f.get(acc).f32x4ExtractLane(lane);
    if (lane > 0) f.f32Add();
  }
  f.get(tail).f32Add().f32Store(0);
  return f;
}
