/**
 * Calibration at publish: a model and its validation images -> the temperature (and bias, when it
 * wins) fitted on them (temperature-fit.ts), the calibrated model (temperature-model.ts) and what
 * metadata.json records under `calibration`. The train job, the ensemble job and `npm run calibrate` all call this one
 * function with the validation split; the type admits nothing else.
 */
import type * as tf from '@tensorflow/tfjs';
import { CLASSES, type CalibrationInfo, type CalibrationMetrics, type PreprocessSpec } from '@fer/shared';
import type { PixelSet } from '../data/pixel-cache';
import { calibrationMetrics } from '../metrics/calibration';
import { predictSet } from '../train/predict';
import {
  chooseCalibration,
  logProbabilities,
  scaledProbabilities,
  type Calibration,
} from './temperature-fit';
import {
  temperatureInputModel,
  temperatureMode,
  withTemperature,
  type TemperatureMode,
} from './temperature-model';

/** The images a temperature may be fitted on: a validation split, named by how it was drawn. */
export interface ValidationImages {
  split: 'validation';
  /** The seed and fraction it was drawn with (`--split-seed`, `--val-fraction`). */
  seed: number;
  fraction: number;
  set: PixelSet;
}

export interface FittedCalibration extends Calibration {
  /** A new model (the caller disposes it) whose output is calibrated. */
  model: tf.LayersModel;
  mode: TemperatureMode;
  /** The `calibration` block of metadata.json (without `source`). */
  info: CalibrationInfo;
  /** Every calibration figure on the validation images, before and after. */
  validation: { before: CalibrationMetrics; after: CalibrationMetrics };
}

const score = (m: CalibrationMetrics) => ({ ece: m.ece, nll: m.nll, brier: m.brier });

/**
 * Fits a calibration on the validation images and bakes it into a copy of `model`.
 *
 * @example const fit = await fitCalibration(model, { split: 'validation', seed: 42, fraction: 0.1, set }, spec, 256);
 * @throws CalibrationModelError for a model that is already calibrated or has no single output.
 */
export async function fitCalibration(
  model: tf.LayersModel,
  images: ValidationImages,
  spec: PreprocessSpec,
  batchSize: number,
): Promise<FittedCalibration> {
  if (images.split !== 'validation') throw new Error(`a temperature is fitted on validation images only`);
  const { set } = images;
  const mode = temperatureMode(model);
  const raw = await predictSet(temperatureInputModel(model, mode), set, spec, batchSize);
  const scores = mode === 'logits' ? Float64Array.from(raw) : logProbabilities(raw);
  const k = CLASSES.length;
  const { temperature, bias, selection } = chooseCalibration(scores, set.labels, k, { seed: images.seed });
  const before = calibrationMetrics(scaledProbabilities(scores, [1], k), set.labels, CLASSES);
  const after = calibrationMetrics(scaledProbabilities(scores, temperature, k, bias), set.labels, CLASSES);
  const byClass = (values: readonly number[]) => Object.fromEntries(CLASSES.map((c, i) => [c, values[i]]));
  const info: CalibrationInfo = {
    method: 'temperature',
    applied_to: mode,
    temperature: temperature.length === 1 ? temperature[0] : byClass(temperature),
    ...(bias ? { bias: byClass(bias) } : {}),
    fitted_on: {
      split: 'validation',
      split_seed: images.seed,
      fraction: images.fraction,
      samples: set.count,
    },
    validation: { before: score(before), after: score(after) },
    selection,
  };
  return {
    model: await withTemperature(model, { temperature, bias }),
    mode,
    temperature,
    bias,
    info,
    validation: { before, after },
  };
}

export interface CalibratedPredictions {
  /** What the published (calibrated) model answers, float32 like the runtimes. */
  probabilities: Float32Array;
  /** What the model answered before the temperature; null when there is none. */
  uncalibrated: Float32Array | null;
}

/**
 * Probabilities of the uncalibrated and of the calibrated model from one pass over `set` (the
 * test split is read once for both): the scores the temperature layer reads, then both maps.
 *
 * @example const { probabilities, uncalibrated } = await predictCalibrated(model, fit, testSet, spec, 256);
 */
export async function predictCalibrated(
  model: tf.LayersModel,
  fit: Pick<FittedCalibration, 'mode' | 'temperature' | 'bias'> | null,
  set: PixelSet,
  spec: PreprocessSpec,
  batchSize: number,
): Promise<CalibratedPredictions> {
  if (fit === null)
    return { probabilities: await predictSet(model, set, spec, batchSize), uncalibrated: null };
  const raw = await predictSet(temperatureInputModel(model, fit.mode), set, spec, batchSize);
  const scores = fit.mode === 'logits' ? Float64Array.from(raw) : logProbabilities(raw);
  const k = CLASSES.length;
  return {
    probabilities: Float32Array.from(scaledProbabilities(scores, fit.temperature, k, fit.bias)),
    uncalibrated: fit.mode === 'logits' ? Float32Array.from(scaledProbabilities(scores, [1], k)) : raw,
  };
}
