/**
 * Stratified selection: the validation split (and any subset for smoke runs) keeps each class's
 * share of the data, so a rare class is neither missing from validation nor over-represented.
 * Pure functions of the samples and a seeded generator.
 */
import { Rng } from './rng';

/** Positions of the items of each label, in input order. */
function byLabel<T extends { label: number }>(items: readonly T[]): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  items.forEach((item, i) => {
    const group = groups.get(item.label);
    if (group) group.push(i);
    else groups.set(item.label, [i]);
  });
  return new Map([...groups.entries()].sort((a, b) => a[0] - b[0]));
}

export interface StratifiedSplit<T> {
  train: T[];
  validation: T[];
}

/**
 * Moves `fraction` of each class (rounded, at least one image of any class with two or more)
 * into validation; both outputs keep the input order.
 *
 * @example const { train, validation } = stratifiedSplit(samples, 0.1, Rng.derive(seed, 'split'));
 */
export function stratifiedSplit<T extends { label: number }>(
  items: readonly T[],
  fraction: number,
  rng: Rng,
): StratifiedSplit<T> {
  if (!(fraction >= 0 && fraction < 1))
    throw new RangeError(`validation fraction must be in [0, 1), got ${fraction}`);
  const inValidation = new Uint8Array(items.length);
  for (const positions of byLabel(items).values()) {
    let take = Math.round(positions.length * fraction);
    if (fraction > 0 && take === 0 && positions.length >= 2) take = 1;
    for (const i of rng.shuffle([...positions]).slice(0, take)) inValidation[i] = 1;
  }
  const train: T[] = [];
  const validation: T[] = [];
  items.forEach((item, i) => (inValidation[i] ? validation : train).push(item));
  return { train, validation };
}

/**
 * The training job's validation split: what `--val-fraction` and `--split-seed` (else `--seed`)
 * choose. Runs, and the ensemble of their models, that share both share their validation images.
 *
 * @example const { train, validation } = validationSplit(samples, 0.1, 42);
 */
export function validationSplit<T extends { label: number }>(
  items: readonly T[],
  fraction: number,
  seed: number,
): StratifiedSplit<T> {
  return stratifiedSplit(items, fraction, Rng.derive(seed, 'validation-split'));
}

/**
 * At most `count` items with the class proportions of the input (largest-remainder rounding),
 * in input order. Returns the input unchanged when it is not larger than `count`.
 *
 * @example stratifiedSample(samples, 600, Rng.derive(seed, 'subset')) // 600 samples, same class mix
 */
export function stratifiedSample<T extends { label: number }>(
  items: readonly T[],
  count: number,
  rng: Rng,
): T[] {
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`sample size must be a positive integer, got ${count}`);
  if (items.length <= count) return [...items];
  const groups = [...byLabel(items).values()];
  const exact = groups.map((g) => (g.length * count) / items.length);
  const quota = exact.map(Math.floor);
  const order = exact
    .map((e, k) => ({ k, rest: e - Math.floor(e) }))
    .sort((a, b) => b.rest - a.rest || a.k - b.k);
  for (let left = count - quota.reduce((a, b) => a + b, 0), j = 0; left > 0; left--, j++) quota[order[j].k]++;
  const keep = new Uint8Array(items.length);
  groups.forEach((positions, k) => {
    for (const i of rng.shuffle([...positions]).slice(0, quota[k])) keep[i] = 1;
  });
  return items.filter((_, i) => keep[i] === 1);
}
