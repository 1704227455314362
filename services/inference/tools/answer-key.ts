/**
 * Tells whether each response carries the answer to its own request. The fault, load and soak
 * checks send many different images at once; with inputs whose correct probabilities differ, an
 * answer swapped between requests (a batching or worker mix-up) is caught, not just a lost one.
 * The key is computed first, one request at a time, so no batching is involved in it.
 */
import sharp from 'sharp';
import { CLASSES } from '@fer/shared';

/** The same input through the same loaded model gives the same float32 answer within this. */
export const SAME_ANSWER_TOLERANCE = 1e-4;
/** Distinct key inputs must differ by more than this in some class, or a swap could go unseen. */
export const DISTINCT_ANSWER_MARGIN = 1e-3;

export type Probabilities = Record<string, number>;

/**
 * `count` different 48x48 grayscale PNGs of seeded noise (a face crop's size; sent with crop=none).
 *
 * @example const images = await distinctImages(16);
 */
export async function distinctImages(count: number, seed = 1): Promise<Buffer[]> {
  const side = 48;
  return Promise.all(
    Array.from({ length: count }, (_, index) => {
      let state = (seed * 7919 + index * 104_729 + 1) >>> 0;
      const pixels = Buffer.alloc(side * side);
      for (let i = 0; i < pixels.length; i++) {
        // A 32-bit LCG: cheap, deterministic, and different for every (seed, index).
        state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
        pixels[i] = state >>> 24;
      }
      return sharp(pixels, { raw: { width: side, height: side, channels: 1 } })
        .png()
        .toBuffer();
    }),
  );
}

/** Largest difference between two probability rows over the classes. */
export function distance(a: Probabilities, b: Probabilities): number {
  return Math.max(...CLASSES.map((name) => Math.abs(a[name] - b[name])));
}

export class AnswerKey {
  /**
   * @param answers the probabilities of each input, in input order (computed one at a time).
   * @throws when two inputs are too alike for a swap between them to be seen.
   */
  constructor(readonly answers: readonly Probabilities[]) {
    for (let i = 0; i < answers.length; i++) {
      for (let j = i + 1; j < answers.length; j++) {
        if (distance(answers[i], answers[j]) <= DISTINCT_ANSWER_MARGIN) {
          throw new Error(`inputs ${i} and ${j} get the same answer: pick other inputs`);
        }
      }
    }
  }

  /** The index of the input whose answer `probabilities` is, or null when it is nobody's. */
  owner(probabilities: Probabilities): number | null {
    let best = -1;
    let bestDistance = Infinity;
    this.answers.forEach((answer, i) => {
      const d = distance(answer, probabilities);
      if (d < bestDistance) {
        best = i;
        bestDistance = d;
      }
    });
    return bestDistance <= SAME_ANSWER_TOLERANCE ? best : null;
  }

  /** True when `probabilities` is the answer to input `index`. */
  isAnswerTo(index: number, probabilities: Probabilities): boolean {
    return distance(this.answers[index], probabilities) <= SAME_ANSWER_TOLERANCE;
  }
}

/** Any way of sending one image and getting the /predict JSON back. */
export type Predict = (image: Buffer) => Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The answer key of `images`: each image sent alone, one after the other, with crop=none.
 *
 * @example const key = await answerKey((image) => service.predict(image, '?crop=none', 'image/png'), images);
 */
export async function answerKey(predict: Predict, images: readonly Buffer[]): Promise<AnswerKey> {
  const answers: Probabilities[] = [];
  for (const image of images) {
    const response = await predict(image);
    if (response.status !== 200) throw new Error(`the key request failed with ${response.status}`);
    answers.push(response.body.faces[0].probabilities);
  }
  return new AnswerKey(answers);
}

/**
 * A random permutation of 0..n-1 repeated `rounds` times, from a seeded generator (so a failing
 * order can be replayed).
 *
 * @example shuffledIndices(4, 2, 7) // e.g. [2, 0, 3, 1, 1, 3, 0, 2]
 */
export function shuffledIndices(n: number, rounds: number, seed: number): number[] {
  let state = seed >>> 0 || 1;
  const next = () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
  const out: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    out.push(...order);
  }
  return out;
}
