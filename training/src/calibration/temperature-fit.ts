/**
 * Temperature scaling (Guo et al. 2017) fitted by maximum likelihood: the T that makes
 * softmax(s / T) best predict the labels, where s are the scores the calibration layer will see
 * (a network's logits, or the log of an ensemble's mean probabilities). Three candidates, the one
 * with the lowest cross-validated NLL on the same images kept: one T for every class, one T per
 * class, or one T plus a per-class bias, softmax(s / T + β) (the bias corrects what a temperature
 * cannot: a class the model names too often or too rarely). Pure float64 arithmetic.
 *
 * The fit works on the inverse temperature b = 1/T: NLL(b) = mean(lse(b s) - b s_y) is convex in
 * b (one value or a vector), so the scalar is found by Newton's method kept inside a bracket of its
 * monotone derivative, and the vector by Newton's method from the scalar, both to machine precision.
 * With a bias the scores stay linear in the parameters (b, β), so the NLL is still convex and
 * Newton's method from (scalar b, β = 0) finds it; β is only defined up to a constant and is kept
 * centred (sum 0).
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

/** What a calibration layer applies: softmax(s / T + bias); bias null for temperature alone. */
export interface Calibration {
  temperature: Temperature;
  /** One value per class, summing to 0; null when there is none. */
  bias: number[] | null;
}

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

/**
 * Softmax of b ⊙ (row i's scores) + bias into `q` (b of length 1 or k, bias of length k or
 * absent); returns the log-sum-exp of those values.
 */
function softmaxRow(d: FitData, i: number, b: Float64Array, q: Float64Array, bias?: Float64Array): number {
  const { scores, k } = d;
  const o = i * k;
  const shared = b.length === 1;
  let max = -Infinity;
  for (let c = 0; c < k; c++) {
    q[c] = (shared ? b[0] : b[c]) * scores[o + c] + (bias ? bias[c] : 0);
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
 * Probabilities softmax(s / T + bias), row-major [n, k], computed as the calibration layers
 * compute them (divide, then add).
 *
 * @example scaledProbabilities(Float64Array.from([2, 0]), [2], 2) // softmax([1, 0])
 */
export function scaledProbabilities(
  scores: ArrayLike<number>,
  temperature: Temperature,
  k: number,
  bias: readonly number[] | null = null,
): Float64Array {
  const n = scores.length / k;
  const out = new Float64Array(scores.length);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) {
      const t = temperature.length === 1 ? temperature[0] : temperature[c];
      out[i * k + c] = scores[i * k + c] / t + (bias ? bias[c] : 0);
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

function nllOf(d: FitData, b: Float64Array, bias?: Float64Array): number {
  const q = new Float64Array(d.k);
  let total = 0;
  for (const i of d.rows) {
    const y = d.labels[i];
    total +=
      softmaxRow(d, i, b, q, bias) -
      (b.length === 1 ? b[0] : b[y]) * d.scores[i * d.k + y] -
      (bias ? bias[y] : 0);
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

/** The NLL at θ with its gradient and Hessian: what a Newton step needs. */
interface NewtonTerms {
  nll: number;
  gradient: Float64Array;
  hessian: Float64Array[];
}

interface NewtonProblem {
  terms(theta: Float64Array): NewtonTerms;
  /** θ − step made valid (e.g. a bias centred), or null where it leaves the allowed range. */
  propose(theta: Float64Array, step: Float64Array): Float64Array | null;
  nll(theta: Float64Array): number;
}

/**
 * Newton's method on a convex NLL from `start`, with a backtracking line search: each step is
 * halved until it lowers the NLL inside the allowed range; none does once converged to rounding.
 */
function minimizeNewton(start: Float64Array, problem: NewtonProblem): Float64Array {
  let theta = start;
  for (let step = 0; step < NEWTON_STEPS; step++) {
    const terms = problem.terms(theta);
    if (Math.max(...terms.gradient.map(Math.abs)) < GRADIENT_TOLERANCE) break;
    // A small ridge keeps the step defined where the Hessian is (nearly) singular: a class whose
    // scores barely vary, or a bias, which is free along (1, ..., 1) (its gradient sums to 0, so the
    // step has no share in that direction).
    const ridged = terms.hessian.map((row, c) => row.map((h, e) => (c === e ? h + 1e-12 : h)));
    const direction = solve(ridged, terms.gradient);
    let next: Float64Array | null = null;
    for (let scale = 1; scale > 1e-6 && next === null; scale /= 2) {
      const candidate = problem.propose(
        theta,
        direction.map((v) => scale * v),
      );
      if (candidate && problem.nll(candidate) < terms.nll) next = candidate;
    }
    if (next === null) break;
    theta = next;
  }
  return theta;
}

const inverseTemperatureInRange = (b: number) => b >= 1 / MAX_TEMPERATURE && b <= 1 / MIN_TEMPERATURE;

function fitVector(d: FitData): Temperature {
  const b = minimizeNewton(new Float64Array(d.k).fill(1 / fitScalar(d)), {
    terms: (theta) => vectorTerms(d, theta),
    propose: (theta, step) => {
      const candidate = theta.map((v, c) => v - step[c]);
      return candidate.every(inverseTemperatureInRange) ? candidate : null;
    },
    nll: (theta) => nllOf(d, theta),
  });
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

/** NLL, gradient and Hessian in θ = (b, β_0, ..., β_k-1): one inverse temperature and a bias. */
function biasTerms(d: FitData, b: number, bias: Float64Array) {
  const { scores, k } = d;
  const q = new Float64Array(k);
  const p = k + 1;
  const gradient = new Float64Array(p);
  const hessian = Array.from({ length: p }, () => new Float64Array(p));
  const shared = Float64Array.of(b);
  let nll = 0;
  for (const i of d.rows) {
    const o = i * k;
    const y = d.labels[i];
    nll += softmaxRow(d, i, shared, q, bias) - b * scores[o + y] - bias[y];
    // z_c = b s_c + β_c, so dz_c/db = s_c and dz_c/dβ_e = [c = e]; the Hessian is J'(diag q - qq')J.
    let mean = 0;
    let square = 0;
    for (let c = 0; c < k; c++) {
      if (q[c] === 0) continue; // a score of -Infinity (a zero probability) weighs nothing
      mean += q[c] * scores[o + c];
      square += q[c] * scores[o + c] * scores[o + c];
    }
    gradient[0] += mean - scores[o + y];
    hessian[0][0] += Math.max(0, square - mean * mean);
    for (let c = 0; c < k; c++) {
      gradient[1 + c] += q[c] - (c === y ? 1 : 0);
      if (q[c] === 0) continue;
      const cross = q[c] * (scores[o + c] - mean);
      hessian[0][1 + c] += cross;
      hessian[1 + c][0] += cross;
      for (let e = 0; e < k; e++) hessian[1 + c][1 + e] += (c === e ? q[c] : 0) - q[c] * q[e];
    }
  }
  const n = Math.max(1, d.rows.length);
  return {
    nll: nll / n,
    gradient: gradient.map((g) => g / n),
    hessian: hessian.map((row) => row.map((h) => h / n)),
  };
}

const centred = (v: Float64Array): Float64Array => {
  const mean = v.reduce((a, x) => a + x, 0) / v.length;
  return v.map((x) => x - mean);
};

/** θ = (b, β_0, ..., β_k-1): the inverse temperature first, then the bias. */
function fitBias(d: FitData): Calibration {
  const start = new Float64Array(d.k + 1);
  start[0] = 1 / fitScalar(d);
  const theta = minimizeNewton(start, {
    terms: (t) => biasTerms(d, t[0], t.subarray(1)),
    propose: (t, step) => {
      const b = t[0] - step[0];
      if (!inverseTemperatureInRange(b)) return null;
      const candidate = new Float64Array(d.k + 1);
      candidate[0] = b;
      candidate.set(centred(t.subarray(1).map((v, c) => v - step[1 + c])), 1);
      return candidate;
    },
    nll: (t) => nllOf(d, t.subarray(0, 1), t.subarray(1)),
  });
  return { temperature: [1 / theta[0]], bias: Array.from(theta.subarray(1)) };
}

/**
 * One temperature and a per-class bias minimizing the NLL of softmax(s / T + bias) (Newton's
 * method from the best scalar and no bias, with a backtracking line search); the bias sums to 0.
 *
 * @example fitTemperatureAndBias(logits, labels, 6) // { temperature: [1.4], bias: [0.1, 0.2, ...] }
 */
export function fitTemperatureAndBias(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  k: number,
  rows?: ArrayLike<number>,
): Calibration {
  return fitBias(fitData(scores, labels, k, rows));
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

/** The calibrations `chooseCalibration` decides between, in the order a tie is settled. */
const CANDIDATES = {
  scalar: (d: FitData): Calibration => ({ temperature: [fitScalar(d)], bias: null }),
  per_class: (d: FitData): Calibration => ({ temperature: fitVector(d), bias: null }),
  scalar_bias: fitBias,
} as const;

type Candidate = keyof typeof CANDIDATES;

export interface CalibrationChoice extends Calibration {
  /**
   * Each candidate scored on the fit images, each fold by the calibration fitted on the other
   * folds: mean NLL (what chooses) and the ECE of the pooled out-of-fold probabilities.
   */
  selection: {
    folds: number;
    scalar_nll: number;
    per_class_nll: number;
    scalar_bias_nll: number;
    scalar_ece: number;
    per_class_ece: number;
    scalar_bias_ece: number;
  };
}

const scoresOf = (c: Calibration) => ({
  b: Float64Array.from(c.temperature, (t) => 1 / t),
  bias: c.bias ? Float64Array.from(c.bias) : undefined,
});

/**
 * The calibration to bake in: one temperature, one per class, or one temperature plus a per-class
 * bias, whichever has the lowest NLL when every fold of the images is scored by the calibration
 * fitted on the other folds (the simpler one on a tie); then refitted on all of them.
 *
 * @example const { temperature, bias, selection } = chooseCalibration(valLogits, valLabels, 6);
 */
export function chooseCalibration(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  k: number,
  options: { folds?: number; seed?: number } = {},
): CalibrationChoice {
  const all = fitData(scores, labels, k);
  const n = all.labels.length;
  const requested = options.folds ?? SELECTION_FOLDS;
  if (!Number.isInteger(requested) || requested < 2)
    throw new RangeError(`folds must be an integer >= 2, got ${requested}`);
  if (n < 2) throw new RangeError(`a temperature needs at least 2 images to choose on, got ${n}`);
  // Tiny validation splits (smoke runs) get one image per fold.
  const folds = Math.min(requested, n);
  const fold = foldsOf(all.labels, folds, options.seed ?? 0);
  const names = Object.keys(CANDIDATES) as Candidate[];
  const nll = Object.fromEntries(names.map((name) => [name, 0])) as Record<Candidate, number>;
  const held = Object.fromEntries(names.map((name) => [name, new Float64Array(n * k)])) as Record<
    Candidate,
    Float64Array
  >;
  for (let f = 0; f < folds; f++) {
    const fit = { ...all, rows: all.rows.filter((i) => fold[i] !== f) };
    const heldOut = { ...all, rows: all.rows.filter((i) => fold[i] === f) };
    for (const name of names) {
      const calibration = CANDIDATES[name](fit);
      const { b, bias } = scoresOf(calibration);
      nll[name] += nllOf(heldOut, b, bias) * heldOut.rows.length;
      for (const i of heldOut.rows) {
        const row = all.scores.subarray(i * k, (i + 1) * k);
        held[name].set(scaledProbabilities(row, calibration.temperature, k, calibration.bias), i * k);
      }
    }
  }
  const ece = (name: Candidate) => expectedCalibrationError(held[name], all.labels, k);
  const selection = {
    folds,
    scalar_nll: nll.scalar / n,
    per_class_nll: nll.per_class / n,
    scalar_bias_nll: nll.scalar_bias / n,
    scalar_ece: ece('scalar'),
    per_class_ece: ece('per_class'),
    scalar_bias_ece: ece('scalar_bias'),
  };
  const best = names.reduce((a, b) => (nll[b] < nll[a] ? b : a));
  return { ...CANDIDATES[best](all), selection };
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
