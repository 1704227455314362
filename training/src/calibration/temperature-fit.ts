/**
 * Temperature scaling (Guo et al. 2017) fitted by maximum likelihood: the T that makes
 * softmax(s / T) best predict the labels, where s are the scores the calibration layer will see
 * (a network's logits, or the log of an ensemble's mean probabilities). One T for every class, or
 * one per class when that wins in cross-validation on the same images. Pure float64 arithmetic.
 *
 * The fit works on the inverse temperature b = 1/T: NLL(b) = mean(lse(b s) - b s_y) is convex in
 * b (one value or a vector), so the scalar is found by Newton's method kept inside a bracket of its
 * monotone derivative, and the vector by Newton's method from the scalar, both to machine precision.
 */
import { Rng } from '../data/rng';
import { expectedCalibrationError, MIN_PROBABILITY } from '../metrics/calibration';

/** The range a temperature is searched in; beyond it the model is broken, not miscalibrated. */
export const MIN_TEMPERATURE = 1e-3;
export const MAX_TEMPERATURE = 1e3;
/** Folds of the validation images used to decide between one temperature and one per class. */
export const SELECTION_FOLDS = 5;

const SCALAR_STEPS = 100;
const NEWTON_STEPS = 100;
/** Below this the mean gradient is rounding noise of the sums (about 1e-9 for 20,000 images). */
const GRADIENT_TOLERANCE = 1e-8;

/** A temperature: `[T]` for every class alike, or `[T_0, ..., T_k-1]`. */
export type Temperature = number[];

/** The fit's inputs in typed arrays, so its loops run on one element kind. */
interface FitData {
  scores: Float64Array;
  labels: Int32Array;
  k: number;
  /** The rows taking part (a fold's complement, or all). */
  rows: Int32Array;
}

function fitData(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  k: number,
  rows?: ArrayLike<number>,
): FitData {
  if (scores.length !== labels.length * k)
    throw new RangeError(`${scores.length} scores for ${labels.length} labels of ${k} classes`);
  return {
    scores: scores instanceof Float64Array ? scores : Float64Array.from(scores),
    labels: labels instanceof Int32Array ? labels : Int32Array.from(labels),
    k,
    rows: rows ? Int32Array.from(rows) : allRows(labels.length),
  };
}

const allRows = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

/** Softmax of b ⊙ (row i's scores) into `q` (b of length 1 or k); returns lse(b ⊙ s). */
function softmaxRow(d: FitData, i: number, b: Float64Array, q: Float64Array): number {
  const { scores, k } = d;
  const o = i * k;
  const shared = b.length === 1;
  let max = -Infinity;
  for (let c = 0; c < k; c++) {
    q[c] = (shared ? b[0] : b[c]) * scores[o + c];
    if (q[c] > max) max = q[c];
  }
  let sum = 0;
  for (let c = 0; c < k; c++) {
    q[c] = Math.exp(q[c] - max);
    sum += q[c];
  }
  for (let c = 0; c < k; c++) q[c] /= sum;
  return max + Math.log(sum);
}

/**
 * Probabilities softmax(s / T), row-major [n, k], computed as the calibration layers compute them.
 *
 * @example scaledProbabilities(Float64Array.from([2, 0]), [2], 2) // softmax([1, 0])
 */
export function scaledProbabilities(
  scores: ArrayLike<number>,
  temperature: Temperature,
  k: number,
): Float64Array {
  const n = scores.length / k;
  const out = new Float64Array(scores.length);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) {
      const t = temperature.length === 1 ? temperature[0] : temperature[c];
      out[i * k + c] = scores[i * k + c] / t;
      max = Math.max(max, out[i * k + c]);
    }
    let sum = 0;
    for (let c = 0; c < k; c++) {
      out[i * k + c] = Math.exp(out[i * k + c] - max);
      sum += out[i * k + c];
    }
    for (let c = 0; c < k; c++) out[i * k + c] /= sum;
  }
  return out;
}

function nllOf(d: FitData, b: Float64Array): number {
  const q = new Float64Array(d.k);
  let total = 0;
  for (const i of d.rows) {
    const y = d.labels[i];
    total += softmaxRow(d, i, b, q) - (b.length === 1 ? b[0] : b[y]) * d.scores[i * d.k + y];
  }
  return d.rows.length > 0 ? total / d.rows.length : 0;
}

/**
 * Mean NLL of the labels under softmax(s / T), over the rows listed in `rows` (all when absent).
 *
 * @example temperatureNll(scores, labels, [1.3], 6) // 0.87
 */
export function temperatureNll(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  temperature: Temperature,
  k: number,
  rows?: ArrayLike<number>,
): number {
  return nllOf(
    fitData(scores, labels, k, rows),
    Float64Array.from(temperature, (t) => 1 / t),
  );
}

/** First and second derivative of the NLL in one shared b: mean(E_q[s] - s_y), mean(Var_q[s]). */
function scalarDerivatives(d: FitData, b: number): { slope: number; curvature: number } {
  const { scores, k } = d;
  const q = new Float64Array(k);
  const shared = Float64Array.of(b);
  let slope = 0;
  let curvature = 0;
  for (const i of d.rows) {
    softmaxRow(d, i, shared, q);
    let mean = 0;
    let square = 0;
    for (let c = 0; c < k; c++) {
      if (q[c] === 0) continue; // a score of -Infinity (a zero probability) weighs nothing
      const s = scores[i * k + c];
      mean += q[c] * s;
      square += q[c] * s * s;
    }
    slope += mean - scores[i * k + d.labels[i]];
    curvature += Math.max(0, square - mean * mean);
  }
  const n = Math.max(1, d.rows.length);
  return { slope: slope / n, curvature: curvature / n };
}

function fitScalar(d: FitData): number {
  // Newton's method on b, kept inside a bracket of the monotone slope (bisection when it leaves it).
  let lo = 1 / MAX_TEMPERATURE;
  let hi = 1 / MIN_TEMPERATURE;
  if (scalarDerivatives(d, lo).slope >= 0) return MAX_TEMPERATURE;
  if (scalarDerivatives(d, hi).slope <= 0) return MIN_TEMPERATURE;
  let b = 1;
  for (let step = 0; step < SCALAR_STEPS; step++) {
    const { slope, curvature } = scalarDerivatives(d, b);
    if (slope > 0) hi = b;
    else lo = b;
    if (Math.abs(slope) < GRADIENT_TOLERANCE || hi - lo <= 1e-15 * hi) break;
    const newton = curvature > 0 ? b - slope / curvature : NaN;
    b = newton > lo && newton < hi ? newton : Math.sqrt(lo * hi);
  }
  return 1 / b;
}

/**
 * The one temperature that minimizes the NLL of `labels`, within [MIN_TEMPERATURE, MAX_TEMPERATURE].
 *
 * @example fitScalarTemperature(logits, labels, 6) // 1.42 for an over-confident network
 */
export function fitScalarTemperature(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  k: number,
  rows?: ArrayLike<number>,
): number {
  return fitScalar(fitData(scores, labels, k, rows));
}

/** Solves the small dense system a x = y (Gaussian elimination with partial pivoting). */
function solve(a: Float64Array[], y: Float64Array): Float64Array {
  const k = y.length;
  const m = a.map((row, i) => [...row, y[i]]);
  for (let col = 0; col < k; col++) {
    let pivot = col;
    for (let r = col + 1; r < k; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let r = col + 1; r < k; r++) {
      const f = m[r][col] / m[col][col];
      for (let c = col; c <= k; c++) m[r][c] -= f * m[col][c];
    }
  }
  const x = new Float64Array(k);
  for (let r = k - 1; r >= 0; r--) {
    let s = m[r][k];
    for (let c = r + 1; c < k; c++) s -= m[r][c] * x[c];
    x[r] = s / m[r][r];
  }
  return x;
}

/** NLL, gradient and Hessian in b (one inverse temperature per class). */
function vectorTerms(d: FitData, b: Float64Array) {
  const { scores, k } = d;
  const q = new Float64Array(k);
  const gradient = new Float64Array(k);
  const hessian = Array.from({ length: k }, () => new Float64Array(k));
  let nll = 0;
  for (const i of d.rows) {
    const o = i * k;
    const y = d.labels[i];
    nll += softmaxRow(d, i, b, q) - b[y] * scores[o + y];
    for (let c = 0; c < k; c++) {
      if (q[c] === 0) continue;
      const sc = scores[o + c];
      gradient[c] += q[c] * sc;
      for (let e = 0; e < k; e++) {
        if (q[e] === 0) continue;
        hessian[c][e] += sc * scores[o + e] * ((c === e ? q[c] : 0) - q[c] * q[e]);
      }
    }
    gradient[y] -= scores[o + y];
  }
  const n = Math.max(1, d.rows.length);
  return {
    nll: nll / n,
    gradient: gradient.map((g) => g / n),
    hessian: hessian.map((row) => row.map((h) => h / n)),
  };
}

function fitVector(d: FitData): Temperature {
  let b: Float64Array = new Float64Array(d.k).fill(1 / fitScalar(d));
  for (let step = 0; step < NEWTON_STEPS; step++) {
    const terms = vectorTerms(d, b);
    if (Math.max(...terms.gradient.map(Math.abs)) < GRADIENT_TOLERANCE) break;
    // A small ridge keeps the step defined where a class's scores barely vary.
    const ridged = terms.hessian.map((row, c) => row.map((h, e) => (c === e ? h + 1e-12 : h)));
    const direction = solve(ridged, terms.gradient);
    let next: Float64Array | null = null;
    for (let scale = 1; scale > 1e-6 && next === null; scale /= 2) {
      const candidate = b.map((v, c) => v - scale * direction[c]);
      const inRange = candidate.every((v) => v >= 1 / MAX_TEMPERATURE && v <= 1 / MIN_TEMPERATURE);
      if (inRange && nllOf(d, candidate) < terms.nll) next = candidate;
    }
    // No step lowers the NLL any more: converged to rounding.
    if (next === null) break;
    b = next;
  }
  return Array.from(b, (v) => 1 / v);
}

/**
 * One temperature per class minimizing the NLL (Newton's method from the best scalar, with a
 * backtracking line search that keeps every temperature in range).
 *
 * @example fitClassTemperatures(logits, labels, 6) // [1.3, 1.6, 1.1, ...]
 */
export function fitClassTemperatures(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  k: number,
  rows?: ArrayLike<number>,
): Temperature {
  return fitVector(fitData(scores, labels, k, rows));
}

/** Each row's fold: stratified (every class spread over the folds) and seeded. */
export function foldsOf(labels: ArrayLike<number>, folds: number, seed: number): Int32Array {
  const fold = new Int32Array(labels.length);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const rows = byClass.get(labels[i]);
    if (rows) rows.push(i);
    else byClass.set(labels[i], [i]);
  }
  const rng = Rng.derive(seed, 'calibration-folds');
  let offset = 0;
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    // Continue the fold cycle across classes, so small classes do not all start in fold 0.
    rng.shuffle(byClass.get(label)!).forEach((row, j) => (fold[row] = (offset + j) % folds));
    offset += byClass.get(label)!.length;
  }
  return fold;
}

export interface TemperatureChoice {
  temperature: Temperature;
  /**
   * The two candidates scored on the fit images, each fold by temperatures fitted on the others:
   * mean NLL (what chooses) and the ECE of the pooled out-of-fold probabilities.
   */
  selection: {
    folds: number;
    scalar_nll: number;
    per_class_nll: number;
    scalar_ece: number;
    per_class_ece: number;
  };
}

/**
 * The calibration to bake in: one temperature, unless one per class has the lower NLL when every
 * fold of the images is scored by temperatures fitted on the other folds; then refitted on all.
 *
 * @example const { temperature, selection } = chooseTemperature(valLogits, valLabels, 6);
 */
export function chooseTemperature(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  k: number,
  options: { folds?: number; seed?: number } = {},
): TemperatureChoice {
  const all = fitData(scores, labels, k);
  const n = all.labels.length;
  const requested = options.folds ?? SELECTION_FOLDS;
  if (!Number.isInteger(requested) || requested < 2)
    throw new RangeError(`folds must be an integer >= 2, got ${requested}`);
  if (n < 2) throw new RangeError(`a temperature needs at least 2 images to choose on, got ${n}`);
  // Tiny validation splits (smoke runs) get one image per fold.
  const folds = Math.min(requested, n);
  const fold = foldsOf(all.labels, folds, options.seed ?? 0);
  let scalarTotal = 0;
  let vectorTotal = 0;
  const scalarHeld = new Float64Array(n * k);
  const vectorHeld = new Float64Array(n * k);
  for (let f = 0; f < folds; f++) {
    const fit = { ...all, rows: all.rows.filter((i) => fold[i] !== f) };
    const held = { ...all, rows: all.rows.filter((i) => fold[i] === f) };
    const scalar = [fitScalar(fit)];
    const vector = fitVector(fit);
    scalarTotal +=
      nllOf(
        held,
        Float64Array.from(scalar, (t) => 1 / t),
      ) * held.rows.length;
    vectorTotal +=
      nllOf(
        held,
        Float64Array.from(vector, (t) => 1 / t),
      ) * held.rows.length;
    for (const i of held.rows) {
      const row = all.scores.subarray(i * k, (i + 1) * k);
      scalarHeld.set(scaledProbabilities(row, scalar, k), i * k);
      vectorHeld.set(scaledProbabilities(row, vector, k), i * k);
    }
  }
  const selection = {
    folds,
    scalar_nll: scalarTotal / n,
    per_class_nll: vectorTotal / n,
    scalar_ece: expectedCalibrationError(scalarHeld, all.labels, k),
    per_class_ece: expectedCalibrationError(vectorHeld, all.labels, k),
  };
  const temperature = selection.per_class_nll < selection.scalar_nll ? fitVector(all) : [fitScalar(all)];
  return { temperature, selection };
}

/**
 * Scores for the fit from probabilities (an ensemble's mean): their natural log, with zeros
 * clamped to float32's smallest normal number so the arithmetic stays finite.
 *
 * @example logProbabilities(Float32Array.from([0.5, 0.5])) // [-0.693, -0.693]
 */
export function logProbabilities(probabilities: ArrayLike<number>): Float64Array {
  return Float64Array.from(probabilities, (p) => Math.log(Math.max(p, MIN_PROBABILITY)));
}
