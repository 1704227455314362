/**
 * Classification metrics of a model on a labelled split: confusion matrix, accuracy, per-class
 * precision/recall/F1 and macro-F1, in the shape of the registry's `metrics` field. Pure
 * functions; a class never predicted has precision 0 (scikit-learn's zero_division=0).
 */
import type { ModelMetrics } from '@fer/shared';

/**
 * confusion[true][predicted] counts.
 *
 * @example confusionMatrix([0, 1, 1], [0, 1, 0], 2) // [[1, 0], [1, 1]]
 */
export function confusionMatrix(
  truth: ArrayLike<number>,
  predicted: ArrayLike<number>,
  numClasses: number,
): number[][] {
  if (truth.length !== predicted.length) {
    throw new RangeError(`${truth.length} labels but ${predicted.length} predictions`);
  }
  const matrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i];
    const p = predicted[i];
    if (!(t >= 0 && t < numClasses && p >= 0 && p < numClasses)) {
      throw new RangeError(`class index out of range at ${i}: true ${t}, predicted ${p}`);
    }
    matrix[t][p]++;
  }
  return matrix;
}

/**
 * Every metric the registry records, computed from a confusion matrix.
 *
 * @example metricsFromConfusion([[1, 0], [1, 1]], ['a', 'b'], 'Testing').accuracy // 2 / 3
 */
export function metricsFromConfusion(
  matrix: number[][],
  classes: readonly string[],
  split: string,
): ModelMetrics {
  const k = classes.length;
  if (matrix.length !== k || matrix.some((row) => row.length !== k)) {
    throw new RangeError(`confusion matrix must be ${k}x${k}`);
  }
  const samples = matrix.reduce((sum, row) => sum + row.reduce((a, b) => a + b, 0), 0);
  let correct = 0;
  const perClass: ModelMetrics['per_class'] = {};
  let f1Sum = 0;
  for (let c = 0; c < k; c++) {
    const tp = matrix[c][c];
    correct += tp;
    const support = matrix[c].reduce((a, b) => a + b, 0);
    const predictedAs = matrix.reduce((sum, row) => sum + row[c], 0);
    const precision = predictedAs > 0 ? tp / predictedAs : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass[classes[c]] = { precision, recall, f1, support };
    f1Sum += f1;
  }
  return {
    accuracy: samples > 0 ? correct / samples : 0,
    macro_f1: k > 0 ? f1Sum / k : 0,
    per_class: perClass,
    confusion_matrix: matrix.map((row) => [...row]),
    samples,
    split,
  };
}

/**
 * Metrics of predictions against labels.
 *
 * @example classificationMetrics([0, 1, 1], [0, 1, 0], ['a', 'b'], 'Testing').macro_f1
 */
export function classificationMetrics(
  truth: ArrayLike<number>,
  predicted: ArrayLike<number>,
  classes: readonly string[],
  split: string,
): ModelMetrics {
  return metricsFromConfusion(confusionMatrix(truth, predicted, classes.length), classes, split);
}

/**
 * Row-wise argmax of an [n, k] probability (or logit) matrix stored row-major.
 *
 * @example argmaxRows(Float32Array.from([0.1, 0.9, 0.8, 0.2]), 2) // Int32Array [1, 0]
 */
export function argmaxRows(values: ArrayLike<number>, k: number): Int32Array {
  const n = Math.floor(values.length / k);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (values[i * k + c] > values[i * k + best]) best = c;
    out[i] = best;
  }
  return out;
}
