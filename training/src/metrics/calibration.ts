/**
 * How far a model's probabilities can be taken at their word, from row-major [n, k] probabilities
 * and integer labels. Pure functions, computed in float64:
 *
 * - ECE (expected calibration error, Guo et al. 2017): the top probability ("confidence") of every
 *   image sorted into equal-width bins (lower, upper] over [0, 1]; the mean over bins, weighted by
 *   their share of images, of |accuracy - mean confidence|.
 * - NLL: mean -ln p[label] (p clamped at {@link MIN_PROBABILITY}, so a zero costs a finite amount).
 * - Brier score: mean over images of sum_c (p_c - [c = label])^2, in [0, 2].
 * - Per-class ECE (Kull et al. 2019's classwise ECE, one class at a time): every image's p_c in
 *   the same bins against how often the label is c in each bin.
 *
 * The result has the shape of the registry's `metrics.calibration`.
 */
import type { CalibrationMetrics } from '@fer/shared';

/** The number of bins the product reports ECE with (the "15-bin ECE"). */
export const CALIBRATION_BINS = 15;

/** The smallest probability NLL takes a log of (float32's smallest normal number). */
export const MIN_PROBABILITY = 1.1754943508222875e-38;

/** One bin of a reliability diagram. */
export interface ReliabilityBin {
  lower: number;
  upper: number;
  /** Images whose confidence falls in (lower, upper] (the first bin also takes 0). */
  count: number;
  /** Mean confidence of those images (0 for an empty bin). */
  confidence: number;
  /** Share of them the model got right (0 for an empty bin). */
  accuracy: number;
}

function rowsOf(probabilities: ArrayLike<number>, labels: ArrayLike<number>, k: number): number {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  const n = labels.length;
  if (probabilities.length !== n * k)
    throw new RangeError(`${probabilities.length} probabilities for ${n} labels of ${k} classes`);
  for (let i = 0; i < n; i++) {
    if (!(labels[i] >= 0 && labels[i] < k && Number.isInteger(labels[i])))
      throw new RangeError(`label ${labels[i]} at ${i} is not a class index below ${k}`);
  }
  return n;
}

function binOf(value: number, bins: number): number {
  // (lower, upper]: a value on an edge belongs to the bin below it; 0 joins the first bin.
  return Math.min(bins - 1, Math.max(0, Math.ceil(value * bins) - 1));
}

/** Sorts (value, hit) pairs into bins and returns the bins with their means. */
function binned(values: ArrayLike<number>, hits: ArrayLike<number>, bins: number): ReliabilityBin[] {
  if (!Number.isInteger(bins) || bins < 1)
    throw new RangeError(`bins must be a positive integer, got ${bins}`);
  const count = new Float64Array(bins);
  const sumValue = new Float64Array(bins);
  const sumHit = new Float64Array(bins);
  for (let i = 0; i < values.length; i++) {
    const b = binOf(values[i], bins);
    count[b]++;
    sumValue[b] += values[i];
    sumHit[b] += hits[i];
  }
  return Array.from({ length: bins }, (_, b) => ({
    lower: b / bins,
    upper: (b + 1) / bins,
    count: count[b],
    confidence: count[b] > 0 ? sumValue[b] / count[b] : 0,
    accuracy: count[b] > 0 ? sumHit[b] / count[b] : 0,
  }));
}

/** sum_b (n_b / n) |accuracy_b - confidence_b|. */
function gapOf(bins: readonly ReliabilityBin[]): number {
  const n = bins.reduce((sum, b) => sum + b.count, 0);
  if (n === 0) return 0;
  return bins.reduce((sum, b) => sum + (b.count / n) * Math.abs(b.accuracy - b.confidence), 0);
}

/**
 * The reliability diagram's data: per confidence bin, how many images, their mean confidence and
 * their accuracy. A tie for the top probability counts as the first class (argmax).
 *
 * @example reliabilityBins(Float32Array.from([0.9, 0.1, 0.4, 0.6]), [0, 0], 2, 2)
 * // [{ lower: 0, upper: 0.5, count: 0, ... }, { lower: 0.5, upper: 1, count: 2, confidence: 0.75, accuracy: 0.5 }]
 */
export function reliabilityBins(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  k: number,
  bins = CALIBRATION_BINS,
): ReliabilityBin[] {
  const n = rowsOf(probabilities, labels, k);
  const confidence = new Float64Array(n);
  const hit = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (probabilities[i * k + c] > probabilities[i * k + best]) best = c;
    confidence[i] = probabilities[i * k + best];
    hit[i] = best === labels[i] ? 1 : 0;
  }
  return binned(confidence, hit, bins);
}

/**
 * Expected calibration error of the top probability, in [0, 1].
 *
 * @example expectedCalibrationError(Float32Array.from([0.9, 0.1, 0.4, 0.6]), [0, 0], 2, 2) // 0.25
 */
export function expectedCalibrationError(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  k: number,
  bins = CALIBRATION_BINS,
): number {
  return gapOf(reliabilityBins(probabilities, labels, k, bins));
}

/**
 * Mean negative log-likelihood of the labels (natural log).
 *
 * @example negativeLogLikelihood(Float32Array.from([0.5, 0.5, 0.25, 0.75]), [0, 1], 2) // (ln 2 + ln 4/3) / 2
 */
export function negativeLogLikelihood(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  k: number,
): number {
  const n = rowsOf(probabilities, labels, k);
  let total = 0;
  for (let i = 0; i < n; i++) total -= Math.log(Math.max(MIN_PROBABILITY, probabilities[i * k + labels[i]]));
  return n > 0 ? total / n : 0;
}

/**
 * Multi-class Brier score: mean squared distance to the one-hot label, in [0, 2].
 *
 * @example brierScore(Float32Array.from([1, 0, 0.25, 0.75]), [0, 0], 2) // (0 + 2 * 0.75^2) / 2
 */
export function brierScore(probabilities: ArrayLike<number>, labels: ArrayLike<number>, k: number): number {
  const n = rowsOf(probabilities, labels, k);
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      const d = probabilities[i * k + c] - (c === labels[i] ? 1 : 0);
      total += d * d;
    }
  }
  return n > 0 ? total / n : 0;
}

/**
 * Classwise ECE of every class: p_c of every image, binned, against the share of images labelled c.
 *
 * @example perClassCalibrationError(probs, labels, 6) // [0.012, 0.031, ...] in class order
 */
export function perClassCalibrationError(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  k: number,
  bins = CALIBRATION_BINS,
): number[] {
  const n = rowsOf(probabilities, labels, k);
  const values = new Float64Array(n);
  const hits = new Float64Array(n);
  return Array.from({ length: k }, (_, c) => {
    for (let i = 0; i < n; i++) {
      values[i] = probabilities[i * k + c];
      hits[i] = labels[i] === c ? 1 : 0;
    }
    return gapOf(binned(values, hits, bins));
  });
}

/**
 * Every calibration figure the registry records, per-class ECE keyed by class name.
 *
 * @example calibrationMetrics(probabilities, set.labels, CLASSES).ece // 0.052
 */
export function calibrationMetrics(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  classes: readonly string[],
  bins = CALIBRATION_BINS,
): CalibrationMetrics {
  const k = classes.length;
  const perClass = perClassCalibrationError(probabilities, labels, k, bins);
  return {
    ece: expectedCalibrationError(probabilities, labels, k, bins),
    nll: negativeLogLikelihood(probabilities, labels, k),
    brier: brierScore(probabilities, labels, k),
    per_class_ece: Object.fromEntries(classes.map((c, i) => [c, perClass[i]])),
    bins,
  };
}

/**
 * Mean top probability: what the model claims its accuracy is.
 *
 * @example meanConfidence(Float32Array.from([0.9, 0.1, 0.4, 0.6]), 2) // 0.75
 */
export function meanConfidence(probabilities: ArrayLike<number>, k: number): number {
  const n = Math.floor(probabilities.length / k);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let best = probabilities[i * k];
    for (let c = 1; c < k; c++) best = Math.max(best, probabilities[i * k + c]);
    total += best;
  }
  return n > 0 ? total / n : 0;
}
