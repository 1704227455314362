/**
 * Class imbalance (FER2013 has 2.3x more Happy than Surprise images): either weight the loss by
 * inverse class frequency, or sample each epoch so every class is drawn equally often. Pure
 * functions of the labels and a seeded generator.
 */
import type { Rng } from './rng';

export const CLASS_BALANCE_MODES = ['weighted-loss', 'sampling', 'none'] as const;
export type ClassBalanceMode = (typeof CLASS_BALANCE_MODES)[number];

/**
 * Inverse-frequency weights N / (K * n_c), so a balanced dataset gets 1 everywhere; a class with
 * no images gets 0.
 *
 * @example classWeights(Int32Array.from([0, 0, 0, 1]), 2) // Float32Array [0.667, 2]
 */
export function classWeights(labels: ArrayLike<number>, numClasses: number): Float32Array {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  const present = counts.filter((n) => n > 0).length;
  return Float32Array.from(counts, (n) => (n > 0 ? labels.length / (present * n) : 0));
}

/**
 * The order in which one epoch visits the training images: a shuffle of all of them, or (for
 * 'sampling') as many draws with replacement, each picking a class uniformly then an image of it.
 *
 * @example epochOrder(set.labels, 'none', Rng.derive(seed, 'order', epoch)) // a permutation
 */
export function epochOrder(labels: Int32Array, mode: ClassBalanceMode, rng: Rng): Int32Array {
  const n = labels.length;
  if (mode !== 'sampling') {
    return rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  }
  const groups = new Map<number, number[]>();
  labels.forEach((label, i) => {
    const group = groups.get(label);
    if (group) group.push(i);
    else groups.set(label, [i]);
  });
  const classes = [...groups.keys()].sort((a, b) => a - b);
  const order = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const group = groups.get(classes[rng.int(classes.length)])!;
    order[k] = group[rng.int(group.length)];
  }
  return order;
}
