import fc from 'fast-check';
import {
  chooseCalibration,
  fitClassTemperatures,
  fitScalarTemperature,
  foldsOf,
  logProbabilities,
  scaledProbabilities,
  fitTemperatureAndBias,
  temperatureNll,
} from '../../src/calibration/temperature-fit';
import { Rng } from '../../src/data/rng';
import { argmaxRows } from '../../src/metrics/classification';

const K = 6;
const N = 10_000;
/** A temperature recovered from 10,000 sampled labels is within a few percent of the true one. */
const RECOVERY_TOLERANCE = 0.05;
/** Six per-class temperatures share those labels, so each is known less precisely. */
const CLASS_RECOVERY_TOLERANCE = 0.15;

/** A known per-class bias (summing to 0, as the fit keeps it). */
const TRUE_BIAS = [-0.6, 0.2, 0.9, -0.1, 0.3, -0.7];
const BIAS_TOLERANCE = 0.1;

/**
 * Logits N(0, 3^2) and labels drawn from softmax(logits / trueT + trueBias): perfectly calibrated
 * at (trueT, trueBias).
 */
function synthetic(
  trueT: number[],
  seed: number,
  trueBias: number[] | null = null,
): { scores: Float64Array; labels: Int32Array } {
  const rng = Rng.derive(seed, 'synthetic-logits');
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const scores = Float64Array.from({ length: N * K }, () => 3 * gauss());
  const p = scaledProbabilities(scores, trueT, K, trueBias);
  const labels = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    let u = rng.next();
    let c = 0;
    while (c < K - 1 && u >= p[i * K + c]) u -= p[i * K + c++];
    labels[i] = c;
  }
  return { scores, labels };
}

describe('temperature fit', () => {
  it('recovers a known temperature from logits and labels drawn at it', () => {
    for (const trueT of [0.5, 2.5]) {
      const { scores, labels } = synthetic([trueT], 11);
      const t = fitScalarTemperature(scores, labels, K);
      expect(Math.abs(t / trueT - 1)).toBeLessThan(RECOVERY_TOLERANCE);
      // It is the minimum: nudging it either way costs likelihood.
      const nll = temperatureNll(scores, labels, [t], K);
      expect(temperatureNll(scores, labels, [t * 1.01], K)).toBeGreaterThan(nll);
      expect(temperatureNll(scores, labels, [t / 1.01], K)).toBeGreaterThan(nll);
    }
  });

  it('recovers one temperature per class, and keeps them only when they win in cross-validation', () => {
    const trueT = [0.5, 1, 1.5, 2, 3, 4];
    const perClass = synthetic(trueT, 12);
    const fitted = fitClassTemperatures(perClass.scores, perClass.labels, K);
    fitted.forEach((t, c) => expect(Math.abs(t / trueT[c] - 1)).toBeLessThan(CLASS_RECOVERY_TOLERANCE));
    const chosen = chooseCalibration(perClass.scores, perClass.labels, K, { seed: 1 });
    expect(chosen.temperature).toHaveLength(K);
    expect(chosen.bias).toBeNull();
    expect(chosen.selection.per_class_nll).toBeLessThan(chosen.selection.scalar_nll);
    expect(chosen.selection.per_class_nll).toBeLessThan(chosen.selection.scalar_bias_nll);

    const shared = synthetic([1.7], 13);
    const one = chooseCalibration(shared.scores, shared.labels, K, { seed: 1 });
    expect(one.temperature).toEqual([fitScalarTemperature(shared.scores, shared.labels, K)]);
    expect(one.bias).toBeNull();
    expect(one.selection.scalar_nll).toBeLessThanOrEqual(one.selection.per_class_nll);
    expect(one.selection.scalar_nll).toBeLessThanOrEqual(one.selection.scalar_bias_nll);
    expect(one.selection.folds).toBe(5);
  });

  it('recovers a known temperature and per-class bias, and keeps the bias only when it wins', () => {
    const { scores, labels } = synthetic([1.6], 15, TRUE_BIAS);
    const fitted = fitTemperatureAndBias(scores, labels, K);
    expect(Math.abs(fitted.temperature[0] / 1.6 - 1)).toBeLessThan(RECOVERY_TOLERANCE);
    fitted.bias!.forEach((b, c) => expect(Math.abs(b - TRUE_BIAS[c])).toBeLessThan(BIAS_TOLERANCE));
    expect(fitted.bias!.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 12);
    // It is the minimum: moving any one class's bias, or the temperature, costs likelihood.
    const nll = (t: number, bias: number[]) => {
      const p = scaledProbabilities(scores, [t], K, bias);
      return -labels.reduce((sum, y, i) => sum + Math.log(p[i * K + y]), 0) / labels.length;
    };
    const [t] = fitted.temperature;
    const best = nll(t, fitted.bias!);
    expect(nll(t * 1.01, fitted.bias!)).toBeGreaterThan(best);
    for (let c = 0; c < K; c++) {
      for (const step of [-0.02, 0.02])
        expect(
          nll(
            t,
            fitted.bias!.map((b, e) => (e === c ? b + step : b)),
          ),
        ).toBeGreaterThan(best);
    }
    const chosen = chooseCalibration(scores, labels, K, { seed: 1 });
    expect(chosen.bias).not.toBeNull();
    expect(chosen.temperature).toEqual(fitted.temperature);
    expect(chosen.bias).toEqual(fitted.bias);
    expect(chosen.selection.scalar_bias_nll).toBeLessThan(chosen.selection.scalar_nll);
    expect(chosen.selection.scalar_bias_nll).toBeLessThan(chosen.selection.per_class_nll);
    expect(chosen.selection.scalar_bias_ece).toBeLessThan(chosen.selection.scalar_ece);
  });

  it('works alike on the log of probabilities (what an ensemble layer sees)', () => {
    const { scores, labels } = synthetic([2], 14);
    const p = scaledProbabilities(scores, [1], K);
    const t = fitScalarTemperature(logProbabilities(p), labels, K);
    expect(t).toBeCloseTo(fitScalarTemperature(scores, labels, K), 9);
  });

  it('never changes the argmax with one temperature (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -20, max: 20, noNaN: true }), { minLength: K, maxLength: 10 * K }),
        fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
        (values, t) => {
          const scores = Float64Array.from(values.slice(0, values.length - (values.length % K)));
          const before = argmaxRows(scores, K);
          const after = argmaxRows(scaledProbabilities(scores, [t], K), K);
          // A tie that the exponential rounds away can only be between (nearly) equal scores.
          return before.every(
            (c, i) => c === after[i] || Math.abs(scores[i * K + c] - scores[i * K + after[i]]) < 1e-9 * t,
          );
        },
      ),
    );
  });

  it('stops at the ends of its range for hopeless or perfect inputs', () => {
    // Always right by a wide margin: the sharper the better.
    expect(fitScalarTemperature([10, 0, 0, 10], [0, 1], 2)).toBe(1e-3);
    // Labels independent of identical scores: any temperature is as good; a flat slope returns a bound.
    expect(fitScalarTemperature([1, 1, 1, 1], [0, 1], 2)).toBeGreaterThan(0);
  });

  it('spreads every class over the folds, the same way for the same seed', () => {
    const labels = Int32Array.from({ length: 100 }, (_, i) => i % 4);
    const folds = foldsOf(labels, 5, 7);
    expect(foldsOf(labels, 5, 7)).toEqual(folds);
    for (let c = 0; c < 4; c++) {
      const counts = [0, 0, 0, 0, 0];
      labels.forEach((l, i) => l === c && counts[folds[i]]++);
      expect(counts).toEqual([5, 5, 5, 5, 5]);
    }
  });

  it('chooses on tiny splits with one image per fold, and refuses fewer than two images', () => {
    const choice = chooseCalibration([2, 0, 0, 1, 1, 0], [0, 1, 0], 2);
    expect(choice.selection.folds).toBe(3);
    expect(() => chooseCalibration([2, 0], [0], 2)).toThrow(/at least 2 images/);
  });
});
