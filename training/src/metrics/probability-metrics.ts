/**
 * Everything the registry records about a model's answers on a labelled split, from its
 * probabilities: the classification metrics of their argmax and the calibration of the
 * probabilities themselves.
 */
import type { ModelMetrics } from '@fer/shared';
import { calibrationMetrics } from './calibration';
import { argmaxRows, classificationMetrics } from './classification';

/**
 * @example const metrics = probabilityMetrics(probabilities, testSet.labels, CLASSES, 'Testing');
 * // metrics.accuracy, metrics.calibration.ece
 */
export function probabilityMetrics(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  classes: readonly string[],
  split: string,
): ModelMetrics {
  return {
    ...classificationMetrics(labels, argmaxRows(probabilities, classes.length), classes, split),
    calibration: calibrationMetrics(probabilities, labels, classes),
  };
}
