import fc from 'fast-check';
import {
  brierScore,
  calibrationMetrics,
  CALIBRATION_BINS,
  expectedCalibrationError,
  meanConfidence,
  negativeLogLikelihood,
  perClassCalibrationError,
  reliabilityBins,
} from '../../src/metrics/calibration';
import { formatCalibration } from '../../src/metrics/format-metrics';

const TOLERANCE = 1e-12;

// Five images, three classes; no top probability sits on a bin edge (float64 inputs).
//   image  probabilities        label  top   right   15-bin index
//   1      0.7  0.2  0.1        0      0.7   yes     10  (0.667, 0.733]
//   2      0.2  0.5  0.3        2      0.5   no       7  (0.467, 0.533]
//   3      0.1  0.15 0.75       2      0.75  yes     11  (0.733, 0.8]
//   4      0.62 0.28 0.1        1      0.62  no       9  (0.6, 0.667]
//   5      0.68 0.22 0.1        1      0.68  no      10
const P = [0.7, 0.2, 0.1, 0.2, 0.5, 0.3, 0.1, 0.15, 0.75, 0.62, 0.28, 0.1, 0.68, 0.22, 0.1];
const Y = [0, 2, 2, 1, 1];

describe('calibration metrics, worked by hand', () => {
  it('bins the top probabilities for the reliability diagram', () => {
    const bins = reliabilityBins(P, Y, 3);
    expect(bins).toHaveLength(CALIBRATION_BINS);
    expect(bins.map((b) => b.count)).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 2, 1, 0, 0, 0]);
    expect(bins[10].lower).toBeCloseTo(10 / 15, 12);
    expect(bins[10].upper).toBeCloseTo(11 / 15, 12);
    expect(bins[10].confidence).toBeCloseTo(0.69, 12); // (0.7 + 0.68) / 2
    expect(bins[10].accuracy).toBeCloseTo(0.5, 12);
    expect(bins[7]).toMatchObject({ count: 1, accuracy: 0 });
    expect(bins[11]).toMatchObject({ count: 1, accuracy: 1 });
    expect(bins[0]).toMatchObject({ count: 0, confidence: 0, accuracy: 0 });
  });

  it('ECE: the share-weighted gaps between accuracy and confidence', () => {
    // bin 10: 2/5 x |0.5 - 0.69|; bin 7: 1/5 x 0.5; bin 11: 1/5 x 0.25; bin 9: 1/5 x 0.62
    expect(Math.abs(expectedCalibrationError(P, Y, 3) - (2 * 0.19 + 0.5 + 0.25 + 0.62) / 5)).toBeLessThan(
      TOLERANCE,
    );
  });

  it('NLL: the mean of -ln p[label]', () => {
    const expected = -(Math.log(0.7) + Math.log(0.3) + Math.log(0.75) + Math.log(0.28) + Math.log(0.22)) / 5;
    expect(Math.abs(negativeLogLikelihood(P, Y, 3) - expected)).toBeLessThan(TOLERANCE);
    // A zero for the label costs a finite amount (ln of float32's smallest normal number).
    expect(negativeLogLikelihood([1, 0], [1], 2)).toBeCloseTo(87.336544750553, 9);
  });

  it('Brier: the mean squared distance to the one-hot label', () => {
    // 0.14 + 0.78 + 0.095 + 0.9128 + 1.0808 over 5 images
    expect(Math.abs(brierScore(P, Y, 3) - 3.0086 / 5)).toBeLessThan(TOLERANCE);
    expect(brierScore([0, 1], [0], 2)).toBe(2);
    expect(brierScore([1, 0], [0], 2)).toBe(0);
  });

  it("per-class ECE: each class's probability against how often it is the label (2 bins)", () => {
    // class 0: (0.5, 1] holds 0.7 (label 0), 0.62, 0.68 -> |1/3 - 2/3| x 3/5; (0, 0.5] holds 0.2, 0.1 -> 0.15 x 2/5
    // class 1: all in (0, 0.5] (0.5 is an upper edge): |2/5 - 0.27|
    // class 2: (0, 0.5]: 0.1, 0.3 (label 2), 0.1, 0.1 -> |0.25 - 0.15| x 4/5; (0.5, 1]: 0.75 (label 2) -> 0.25 x 1/5
    const got = perClassCalibrationError(P, Y, 3, 2);
    [0.26, 0.13, 0.13].forEach((v, c) => expect(Math.abs(got[c] - v)).toBeLessThan(TOLERANCE));
  });

  it('gathers them under class names in the registry shape, and formats them', () => {
    const m = calibrationMetrics(P, Y, ['a', 'b', 'c']);
    expect(m.bins).toBe(15);
    expect(Object.keys(m.per_class_ece)).toEqual(['a', 'b', 'c']);
    expect(m.ece).toBeCloseTo(0.35, 12);
    expect(formatCalibration(m)).toMatch(/^calibration \(15 bins\): ECE 35\.0%, NLL 0\.927, Brier 0\.602/);
    expect(meanConfidence(P, 3)).toBeCloseTo((0.7 + 0.5 + 0.75 + 0.62 + 0.68) / 5, 12);
  });

  it('puts 0 in the first bin, 1 in the last and an upper edge in the bin below it', () => {
    const bins = reliabilityBins([0.5, 0.5, 1, 0], [0, 0], 2, 2);
    expect(bins.map((b) => b.count)).toEqual([1, 1]);
    expect(reliabilityBins([0, 0, 0], [0], 3, 4)[0].count).toBe(1);
  });

  it('refuses mismatched shapes and labels that are not classes', () => {
    expect(() => expectedCalibrationError([0.5, 0.5], [0, 1], 2)).toThrow(/2 probabilities for 2 labels/);
    expect(() => negativeLogLikelihood([0.5, 0.5], [2], 2)).toThrow(/label 2/);
    expect(() => reliabilityBins([0.5, 0.5], [0], 2, 0)).toThrow(/bins/);
  });

  it('a model that is always right with full confidence scores 0 everywhere (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 50 }), (labels) => {
        const p = labels.flatMap((y) => [0, 1, 2, 3].map((c) => (c === y ? 1 : 0)));
        const m = calibrationMetrics(p, labels, ['a', 'b', 'c', 'd']);
        return (
          m.ece === 0 && m.brier === 0 && m.nll === 0 && Object.values(m.per_class_ece).every((v) => v === 0)
        );
      }),
    );
  });
});
