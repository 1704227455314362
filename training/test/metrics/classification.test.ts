import fc from 'fast-check';
import {
  argmaxRows,
  classificationMetrics,
  confusionMatrix,
  metricsFromConfusion,
} from '../../src/metrics/classification';
import { formatMetrics } from '../../src/metrics/format-metrics';

const TOLERANCE = 1e-12;
const CLASSES3 = ['a', 'b', 'c'];

describe('classification metrics', () => {
  // truth:     a a a b b c c c c
  // predicted: a a b b c c c a c
  const truth = [0, 0, 0, 1, 1, 2, 2, 2, 2];
  const predicted = [0, 0, 1, 1, 2, 2, 2, 0, 2];

  it('builds confusion[true][predicted]', () => {
    expect(confusionMatrix(truth, predicted, 3)).toEqual([
      [2, 1, 0],
      [0, 1, 1],
      [1, 0, 3],
    ]);
  });

  it('computes accuracy, per-class precision/recall/F1 and macro-F1 (worked by hand)', () => {
    const m = classificationMetrics(truth, predicted, CLASSES3, 'Testing');
    expect(m.samples).toBe(9);
    expect(m.split).toBe('Testing');
    expect(Math.abs(m.accuracy - 6 / 9)).toBeLessThan(TOLERANCE);
    // a: P = 2/3, R = 2/3; b: P = 1/2, R = 1/2; c: P = 3/4, R = 3/4 (F1 = P = R each)
    expect(m.per_class.a.precision).toBeCloseTo(2 / 3, 12);
    expect(m.per_class.b.recall).toBeCloseTo(1 / 2, 12);
    expect(m.per_class.c.f1).toBeCloseTo(3 / 4, 12);
    expect(m.per_class.c.support).toBe(4);
    expect(Math.abs(m.macro_f1 - (2 / 3 + 1 / 2 + 3 / 4) / 3)).toBeLessThan(TOLERANCE);
  });

  it('gives precision and F1 0 to a class that is never predicted', () => {
    const m = classificationMetrics([0, 1, 2], [0, 0, 0], CLASSES3, 'x');
    expect(m.per_class.b).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 });
    expect(m.per_class.a.precision).toBeCloseTo(1 / 3, 12);
  });

  it('keeps every value in [0, 1] and accuracy equal to the diagonal share (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })), { minLength: 1 }),
        (pairs) => {
          const m = classificationMetrics(
            pairs.map((p) => p[0]),
            pairs.map((p) => p[1]),
            CLASSES3,
            's',
          );
          const correct = pairs.filter(([t, p]) => t === p).length;
          expect(Math.abs(m.accuracy - correct / pairs.length)).toBeLessThan(TOLERANCE);
          for (const c of CLASSES3) {
            for (const v of [m.per_class[c].precision, m.per_class[c].recall, m.per_class[c].f1]) {
              expect(v).toBeGreaterThanOrEqual(0);
              expect(v).toBeLessThanOrEqual(1);
            }
          }
        },
      ),
    );
  });

  it('rejects mismatched lengths, out-of-range labels and a wrong-sized matrix', () => {
    expect(() => confusionMatrix([0], [0, 1], 2)).toThrow(RangeError);
    expect(() => confusionMatrix([0, 3], [0, 1], 2)).toThrow(/out of range/);
    expect(() => metricsFromConfusion([[1]], CLASSES3, 's')).toThrow(/3x3/);
  });

  it('formats a readable table', () => {
    const text = formatMetrics(classificationMetrics(truth, predicted, CLASSES3, 'Testing'));
    expect(text).toMatch(/split Testing: 9 images, accuracy 66\.7%/);
    expect(text).toMatch(/c\s+75\.0%\s+75\.0%\s+75\.0%\s+4/);
  });
});

describe('argmaxRows', () => {
  it('picks the first maximum of each row', () => {
    expect(argmaxRows(Float32Array.from([0.1, 0.7, 0.2, 0.5, 0.5, 0]), 3)).toEqual(Int32Array.from([1, 0]));
  });
});
