/**
 * A small seeded random number generator. Every random choice of the training job (split,
 * shuffling, sampling, augmentation) draws from one of these, derived from `--seed` and a
 * purpose, so a run is reproducible and a resumed epoch draws exactly what it would have drawn.
 *
 * The generator is sfc32 (a 128-bit state, passes PractRand); seeds are mixed with murmur3's
 * finalizer so nearby seeds and purposes give unrelated streams.
 */

export type RngState = [number, number, number, number];

/** murmur3's 32-bit finalizer: spreads every input bit over the output. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit hash of a string (FNV-1a, then mixed). */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return mix32(h >>> 0);
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  private constructor(state: RngState) {
    [this.a, this.b, this.c, this.d] = state;
  }

  /**
   * A generator for one purpose of one run: the same (seed, ...parts) always gives the same stream.
   *
   * @example const rng = Rng.derive(42, 'augment', epoch);
   */
  static derive(seed: number, ...parts: (string | number)[]): Rng {
    let h = mix32(seed >>> 0) ^ mix32(Math.floor(seed / 2 ** 32) >>> 0);
    for (const part of parts) h = mix32(h ^ hashString(String(part)));
    const rng = new Rng([h, mix32(h ^ 0x9e3779b9), mix32(h ^ 0x7f4a7c15), 1]);
    for (let i = 0; i < 12; i++) rng.nextUint32(); // warm-up, as sfc32's authors recommend
    return rng;
  }

  /** A generator continuing from a state saved with `state()`. */
  static fromState(state: RngState): Rng {
    return new Rng([...state]);
  }

  /** The current state, to save and restore with `fromState`. */
  state(): RngState {
    return [this.a, this.b, this.c, this.d];
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 2 ** 32;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`int(n) needs a positive integer, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle<T>(items: T[]): T[];
  shuffle(items: Int32Array): Int32Array;
  shuffle<T>(items: T[] | Int32Array): T[] | Int32Array {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }
}
