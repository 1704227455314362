import { classWeights, epochOrder } from '../../src/data/class-balance';
import { Rng } from '../../src/data/rng';

const TOLERANCE = 1e-6;

describe('classWeights', () => {
  it('is N / (K * n_c), 1 for a balanced dataset and 0 for an absent class', () => {
    const w = classWeights(Int32Array.from([0, 0, 0, 1]), 3);
    expect(w[0]).toBeCloseTo(4 / (2 * 3), 6);
    expect(w[1]).toBeCloseTo(4 / (2 * 1), 6);
    expect(w[2]).toBe(0);
    const balanced = classWeights(Int32Array.from([0, 1, 2, 0, 1, 2]), 3);
    for (const v of balanced) expect(Math.abs(v - 1)).toBeLessThan(TOLERANCE);
  });
});

describe('epochOrder', () => {
  const labels = Int32Array.from([...new Array(90).fill(0), ...new Array(10).fill(1)]);

  it('is a seeded permutation without class balancing by sampling', () => {
    const order = epochOrder(labels, 'weighted-loss', Rng.derive(1, 'order', 1));
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(epochOrder(labels, 'weighted-loss', Rng.derive(1, 'order', 1))).toEqual(order);
  });

  it('draws classes equally often with sampling', () => {
    const order = epochOrder(labels, 'sampling', Rng.derive(1, 'order', 1));
    expect(order).toHaveLength(100);
    const minority = [...order].filter((i) => labels[i] === 1).length;
    // Binomial(100, 0.5): mean 50, sd 5; the unbalanced share would be 10.
    expect(minority).toBeGreaterThan(30);
    expect(minority).toBeLessThan(70);
  });
});
