import { Rng } from '../../src/data/rng';
import { stratifiedSample, stratifiedSplit } from '../../src/data/stratified-split';

/** Items with `counts[c]` items of label c, ids in order. */
function items(counts: number[]): { id: number; label: number }[] {
  const out: { id: number; label: number }[] = [];
  counts.forEach((n, label) => {
    for (let i = 0; i < n; i++) out.push({ id: out.length, label });
  });
  return out;
}

const countLabels = (xs: { label: number }[], k: number) => {
  const c = new Array<number>(k).fill(0);
  for (const x of xs) c[x.label]++;
  return c;
};

describe('stratifiedSplit', () => {
  const data = items([400, 100, 723, 50, 3, 1]);

  it("keeps each class's share in validation and loses nothing", () => {
    const { train, validation } = stratifiedSplit(data, 0.1, Rng.derive(1, 'split'));
    expect(countLabels(validation, 6)).toEqual([40, 10, 72, 5, 1, 0]);
    expect(train.length + validation.length).toBe(data.length);
    const ids = new Set([...train, ...validation].map((x) => x.id));
    expect(ids.size).toBe(data.length);
  });

  it('is deterministic under the seed and differs across seeds', () => {
    const a = stratifiedSplit(data, 0.1, Rng.derive(1, 'split')).validation.map((x) => x.id);
    const b = stratifiedSplit(data, 0.1, Rng.derive(1, 'split')).validation.map((x) => x.id);
    const c = stratifiedSplit(data, 0.1, Rng.derive(2, 'split')).validation.map((x) => x.id);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('rejects fractions outside [0, 1)', () => {
    expect(() => stratifiedSplit(data, 1, Rng.derive(1))).toThrow(RangeError);
    expect(() => stratifiedSplit(data, -0.1, Rng.derive(1))).toThrow(RangeError);
  });
});

describe('stratifiedSample', () => {
  it('draws exactly n items with the class proportions', () => {
    const data = items([300, 100, 600]);
    const sample = stratifiedSample(data, 100, Rng.derive(4));
    expect(sample).toHaveLength(100);
    expect(countLabels(sample, 3)).toEqual([30, 10, 60]);
    // input order is kept
    expect(sample.map((x) => x.id)).toEqual([...sample.map((x) => x.id)].sort((a, b) => a - b));
  });

  it('uses largest remainders so the total is exact', () => {
    const sample = stratifiedSample(items([1, 1, 1]), 2, Rng.derive(4));
    expect(sample).toHaveLength(2);
  });

  it('returns everything when n is not smaller than the input', () => {
    expect(stratifiedSample(items([2, 2]), 10, Rng.derive(1))).toHaveLength(4);
  });
});
