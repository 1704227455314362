import { Rng } from '../../src/data/rng';

describe('Rng', () => {
  it('gives the same stream for the same seed and purpose, another for another', () => {
    const a = Rng.derive(7, 'augment', 3);
    const b = Rng.derive(7, 'augment', 3);
    const c = Rng.derive(7, 'augment', 4);
    const d = Rng.derive(8, 'augment', 3);
    const draw = (r: Rng) => Array.from({ length: 8 }, () => r.nextUint32());
    const first = draw(a);
    expect(draw(b)).toEqual(first);
    expect(draw(c)).not.toEqual(first);
    expect(draw(d)).not.toEqual(first);
  });

  it('continues exactly from a saved state', () => {
    const rng = Rng.derive(1, 'x');
    for (let i = 0; i < 5; i++) rng.next();
    const copy = Rng.fromState(rng.state());
    expect(Array.from({ length: 5 }, () => copy.next())).toEqual(Array.from({ length: 5 }, () => rng.next()));
  });

  it('draws uniform values in range and integers below n', () => {
    const rng = Rng.derive(3);
    const counts = new Array<number>(4).fill(0);
    for (let i = 0; i < 4000; i++) {
      const v = rng.next();
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
      counts[rng.int(4)]++;
    }
    // 1000 expected per bucket; 5 standard deviations is about 137.
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(140);
    expect(() => rng.int(0)).toThrow(RangeError);
  });

  it('shuffles into a permutation', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = Rng.derive(9).shuffle([...items]);
    expect(shuffled).not.toEqual(items);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(items);
  });
});
