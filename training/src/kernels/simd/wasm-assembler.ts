/**
 * A small WebAssembly binary emitter for our SIMD kernels. The kernels are generated from
 * TypeScript at start-up instead of shipping a compiled .wasm, so there is no C toolchain in
 * the build and the unrolled tile shapes are plain loops in the generators. It covers only the
 * instructions the kernels use (i32, f32, 128-bit SIMD, structured control flow) and emits a
 * module that imports one memory: the tfjs wasm backend's heap, so kernels read tensors in place.
 */

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export type ValueType = typeof I32 | typeof F32 | typeof V128;

/** A parameter or local variable of a function being built. */
export interface Local {
  readonly index: number;
  readonly type: ValueType;
}

function unsignedLeb(value: number): number[] {
  const out: number[] = [];
  let rest = value >>> 0;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest !== 0) byte |= 0x80;
    out.push(byte);
  } while (rest !== 0);
  return out;
}

function signedLeb(value: number): number[] {
  const out: number[] = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    const done = (rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function utf8(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...unsignedLeb(bytes.length), ...bytes];
}

function vector(items: number[][]): number[] {
  return [...unsignedLeb(items.length), ...items.flat()];
}

function section(id: number, content: number[]): number[] {
  return [id, ...unsignedLeb(content.length), ...content];
}

/** Opcodes after the 0xfd SIMD prefix. */
const SIMD = {
  load: 0x00,
  load32Splat: 0x09,
  store: 0x0b,
  const: 0x0c,
  shuffle: 0x0d,
  i32x4Splat: 0x11,
  f32x4Splat: 0x13,
  i32x4ExtractLane: 0x1b,
  f32x4ExtractLane: 0x1f,
  f32x4Gt: 0x44,
  f32x4Ge: 0x46,
  and: 0x4e,
  bitselect: 0x52,
  i32x4Add: 0xae,
  f32x4Neg: 0xe1,
  f32x4Sqrt: 0xe3,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
  f32x4Max: 0xe9,
} as const;

/**
 * Builds one function body. Emitters push onto the wasm value stack and return `this`, so code
 * reads in stack order: `f.get(a).get(b).i32Add().set(c)` is `c = a + b`.
 *
 * @example
 * const f = new FunctionBuilder('double', [I32]);
 * f.get(f.param(0)).get(f.param(0)).f32Load().f32Const(2).f32Mul().f32Store();
 */
export class FunctionBuilder {
  private readonly body: number[] = [];
  private readonly localTypes: ValueType[] = [];

  constructor(
    readonly name: string,
    readonly params: readonly ValueType[],
  ) {}

  param(index: number): Local {
    const type = this.params[index];
    if (type === undefined) throw new Error(`${this.name} has no parameter ${index}`);
    return { index, type };
  }

  local(type: ValueType): Local {
    this.localTypes.push(type);
    return { index: this.params.length + this.localTypes.length - 1, type };
  }

  private emit(...bytes: number[]): this {
    for (const byte of bytes) this.body.push(byte);
    return this;
  }

  private simd(opcode: number, ...immediates: number[]): this {
    return this.emit(0xfd, ...unsignedLeb(opcode), ...immediates);
  }

  /** Memory immediates: alignment exponent, then a constant byte offset added to the address. */
  private memarg(alignLog2: number, offset: number): number[] {
    return [alignLog2, ...unsignedLeb(offset)];
  }

  get(local: Local): this {
    return this.emit(0x20, ...unsignedLeb(local.index));
  }
  set(local: Local): this {
    return this.emit(0x21, ...unsignedLeb(local.index));
  }
  tee(local: Local): this {
    return this.emit(0x22, ...unsignedLeb(local.index));
  }

  // Structured control flow. `depth` counts enclosing blocks/loops, 0 = innermost.
  block(): this {
    return this.emit(0x02, 0x40);
  }
  loop(): this {
    return this.emit(0x03, 0x40);
  }
  if(): this {
    return this.emit(0x04, 0x40);
  }
  else(): this {
    return this.emit(0x05);
  }
  end(): this {
    return this.emit(0x0b);
  }
  br(depth: number): this {
    return this.emit(0x0c, ...unsignedLeb(depth));
  }
  brIf(depth: number): this {
    return this.emit(0x0d, ...unsignedLeb(depth));
  }

  i32Const(value: number): this {
    return this.emit(0x41, ...signedLeb(value));
  }
  i32Load(offset = 0): this {
    return this.emit(0x28, ...this.memarg(2, offset));
  }
  i32Eqz(): this {
    return this.emit(0x45);
  }
  i32LtS(): this {
    return this.emit(0x48);
  }
  i32GtS(): this {
    return this.emit(0x4a);
  }
  i32LeS(): this {
    return this.emit(0x4c);
  }
  i32GeS(): this {
    return this.emit(0x4e);
  }
  i32Add(): this {
    return this.emit(0x6a);
  }
  i32Sub(): this {
    return this.emit(0x6b);
  }
  i32Mul(): this {
    return this.emit(0x6c);
  }
  i32DivU(): this {
    return this.emit(0x6e);
  }
  i32RemU(): this {
    return this.emit(0x70);
  }

  f32Const(value: number): this {
    const bytes = new Uint8Array(new Float32Array([value]).buffer);
    return this.emit(0x43, ...bytes);
  }
  f32Load(offset = 0): this {
    return this.emit(0x2a, ...this.memarg(2, offset));
  }
  f32Store(offset = 0): this {
    return this.emit(0x38, ...this.memarg(2, offset));
  }
  f32Gt(): this {
    return this.emit(0x5e);
  }
  f32Add(): this {
    return this.emit(0x92);
  }
  f32Sub(): this {
    return this.emit(0x93);
  }
  f32Mul(): this {
    return this.emit(0x94);
  }
  f32Div(): this {
    return this.emit(0x95);
  }
  f32Sqrt(): this {
    return this.emit(0x91);
  }
  select(): this {
    return this.emit(0x1b);
  }

  v128Load(offset = 0): this {
    return this.simd(SIMD.load, ...this.memarg(4, offset));
  }
  v128Store(offset = 0): this {
    return this.simd(SIMD.store, ...this.memarg(4, offset));
  }
  /** Loads one f32 and broadcasts it to all four lanes. */
  v128Load32Splat(offset = 0): this {
    return this.simd(SIMD.load32Splat, ...this.memarg(2, offset));
  }
  v128Zero(): this {
    return this.simd(SIMD.const, ...new Array<number>(16).fill(0));
  }
  /** A constant vector of four 32-bit lanes, given as f32 values. */
  f32x4Const(lanes: readonly [number, number, number, number]): this {
    return this.simd(SIMD.const, ...new Uint8Array(new Float32Array(lanes).buffer));
  }
  /** A constant vector of four 32-bit lanes, given as i32 values. */
  i32x4Const(lanes: readonly [number, number, number, number]): this {
    return this.simd(SIMD.const, ...new Uint8Array(new Int32Array(lanes).buffer));
  }
  /** Byte shuffle of the two v128 operands on the stack (lanes 0-15 first operand, 16-31 second). */
  i8x16Shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16) throw new Error('i8x16.shuffle needs 16 lane indices');
    return this.simd(SIMD.shuffle, ...lanes);
  }
  f32x4Splat(): this {
    return this.simd(SIMD.f32x4Splat);
  }
  i32x4Splat(): this {
    return this.simd(SIMD.i32x4Splat);
  }
  f32x4ExtractLane(lane: number): this {
    return this.simd(SIMD.f32x4ExtractLane, lane);
  }
  i32x4ExtractLane(lane: number): this {
    return this.simd(SIMD.i32x4ExtractLane, lane);
  }
  i32x4Add(): this {
    return this.simd(SIMD.i32x4Add);
  }
  f32x4Gt(): this {
    return this.simd(SIMD.f32x4Gt);
  }
  f32x4Ge(): this {
    return this.simd(SIMD.f32x4Ge);
  }
  v128And(): this {
    return this.simd(SIMD.and);
  }
  /** (a, b, mask) -> bits of a where mask is set, else bits of b. */
  v128Bitselect(): this {
    return this.simd(SIMD.bitselect);
  }
  f32x4Neg(): this {
    return this.simd(SIMD.f32x4Neg);
  }
  f32x4Sqrt(): this {
    return this.simd(SIMD.f32x4Sqrt);
  }
  f32x4Add(): this {
    return this.simd(SIMD.f32x4Add);
  }
  f32x4Sub(): this {
    return this.simd(SIMD.f32x4Sub);
  }
  f32x4Mul(): this {
    return this.simd(SIMD.f32x4Mul);
  }
  f32x4Div(): this {
    return this.simd(SIMD.f32x4Div);
  }
  f32x4Max(): this {
    return this.simd(SIMD.f32x4Max);
  }

  /** `local += delta` for an i32 local. */
  addTo(local: Local, delta: Local | number): this {
    this.get(local);
    if (typeof delta === 'number') this.i32Const(delta);
    else this.get(delta);
    return this.i32Add().set(local);
  }

  /**
   * `for (counter = from; counter < limit; counter += step) body()` with the test before the
   * first iteration; `limit` is re-read each time, `step` must be positive.
   */
  forRange(counter: Local, from: Local | number, limit: Local, step: number, body: () => void): this {
    if (typeof from === 'number') this.i32Const(from);
    else this.get(from);
    this.set(counter);
    this.block();
    // Exit when fewer than `step` items remain would be a different loop; this one runs while counter < limit.
    this.get(counter).get(limit).i32GeS().brIf(0);
    this.loop();
    body();
    this.addTo(counter, step);
    this.get(counter).get(limit).i32LtS().brIf(0);
    this.end();
    this.end();
    return this;
  }

  encode(): number[] {
    const groups: [number, ValueType][] = [];
    for (const type of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === type) last[0]++;
      else groups.push([1, type]);
    }
    const code = [
      ...unsignedLeb(groups.length),
      ...groups.flatMap(([count, type]) => [...unsignedLeb(count), type]),
      ...this.body,
      0x0b,
    ];
    return [...unsignedLeb(code.length), ...code];
  }
}

/**
 * Encodes a module of void functions that imports its memory as `env.memory`.
 *
 * @example const bytes = encodeModule([f]); new WebAssembly.Module(bytes);
 */
export function encodeModule(functions: readonly FunctionBuilder[]): Uint8Array {
  const types = section(
    1,
    vector(functions.map((f) => [0x60, ...vector(f.params.map((p) => [p])), ...vector([])])),
  );
  // Memory import with minimum 0 pages and no maximum: any existing heap satisfies it.
  const imports = section(2, vector([[...utf8('env'), ...utf8('memory'), 0x02, 0x00, 0x00]]));
  const declarations = section(3, vector(functions.map((_, i) => unsignedLeb(i))));
  const exports = section(7, vector(functions.map((f, i) => [...utf8(f.name), 0x00, ...unsignedLeb(i)])));
  const code = section(10, vector(functions.map((f) => f.encode())));
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...types,
    ...imports,
    ...declarations,
    ...exports,
    ...code,
  ]);
}
