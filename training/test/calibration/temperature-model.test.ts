// The temperature baked into a graph computes exactly the post-hoc scaling of the scores it reads,
// in TF.js and, after export, in ONNX Runtime, and keeps every argmax.
import * as tf from '@tensorflow/tfjs';
import { buildBackbone } from '../../src/backbones';
import { selectTrainingBackend } from '../../src/backend';
import { logProbabilities, scaledProbabilities } from '../../src/calibration/temperature-fit';
import {
  CalibrationModelError,
  insertTemperature,
  LOGIT_TEMPERATURE_LAYER,
  temperatureInputModel,
  temperatureMode,
  withTemperature,
} from '../../src/calibration/temperature-model';
import { buildEnsemble } from '../../src/ensemble/ensemble-model';
import { exportToOnnx } from '../../src/export/onnx';
import { argmaxRows } from '../../src/metrics/classification';
import { ortSession, runOrt, runTfjs } from '../export/parity-helpers';

/** The bound between the baked layer and post-hoc scaling of the same runtime's scores. */
const BAKED_TOLERANCE = 1e-6;
const SIZE = 32;
const BATCH = 8;
const K = 6;

const tiny = (seed: number) => buildBackbone('resnet-tiny', { inputSize: SIZE, numClasses: K, seed });

let input: tf.Tensor;
beforeAll(async () => {
  await selectTrainingBackend();
  // Scaled up so the tiny untrained networks give confident, varied answers.
  input = tf.mul(tf.randomNormal([BATCH, SIZE, SIZE, 3], 0, 1, 'float32', 3), 4);
});
afterAll(() => input.dispose());

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** TF.js and ONNX outputs of the calibrated model against post-hoc scaling of each one's scores. */
async function checkBaked(
  model: tf.LayersModel,
  temperature: number[],
  bias: number[] | null = null,
): Promise<void> {
  const mode = temperatureMode(model);
  const calibrated = await withTemperature(model, { temperature, bias });
  const scoresModel = temperatureInputModel(model, mode);
  const toScores = (raw: Float32Array) =>
    mode === 'logits' ? Float64Array.from(raw) : logProbabilities(raw);
  try {
    const tfjsScores = toScores(runTfjs(scoresModel, input));
    const tfjs = runTfjs(calibrated, input);
    expect(maxAbsDiff(tfjs, scaledProbabilities(tfjsScores, temperature, K, bias))).toBeLessThan(
      BAKED_TOLERANCE,
    );

    const onnxSession = await ortSession(exportToOnnx(calibrated).bytes);
    const scoresSession = await ortSession(exportToOnnx(scoresModel).bytes);
    try {
      const onnx = (await runOrt(onnxSession, input)).data;
      const onnxScores = toScores((await runOrt(scoresSession, input)).data);
      expect(maxAbsDiff(onnx, scaledProbabilities(onnxScores, temperature, K, bias))).toBeLessThan(
        BAKED_TOLERANCE,
      );
      if (temperature.length === 1 && bias === null) {
        expect(argmaxRows(onnx, K)).toEqual(argmaxRows(onnxScores, K));
        expect(argmaxRows(tfjs, K)).toEqual(argmaxRows(runTfjs(model, input), K));
      }
    } finally {
      await onnxSession.release();
      await scoresSession.release();
    }
  } finally {
    calibrated.dispose();
  }
}

describe('a temperature baked into the graph', () => {
  it('divides a network’s logits before its softmax, in TF.js and ONNX Runtime alike', async () => {
    const model = tiny(1);
    try {
      expect(temperatureMode(model)).toBe('logits');
      await checkBaked(model, [0.37]);
      await checkBaked(model, [0.5, 0.8, 1.2, 2, 3, 0.9]);
      await checkBaked(model, [0.8], [-0.3, 0.1, 0.6, 0, -0.2, -0.2]);
      const calibrated = await withTemperature(model, { temperature: [0.37], bias: null });
      expect(calibrated.getLayer(LOGIT_TEMPERATURE_LAYER).getClassName()).toBe('LogitTemperature');
      expect(calibrated.outputLayers[0].name).toBe('probabilities');
      calibrated.dispose();
    } finally {
      model.dispose();
    }
  });

  it('raises a mirrored ensemble’s mean probabilities to 1/T and renormalises them', async () => {
    const members = [tiny(2), tiny(3)];
    const ensemble = await buildEnsemble(members, 'ab', { mirror: true });
    try {
      expect(temperatureMode(ensemble)).toBe('probabilities');
      await checkBaked(ensemble, [0.6]);
      await checkBaked(ensemble, [0.5, 0.8, 1.2, 2, 3, 0.9]);
      await checkBaked(ensemble, [0.8], [-0.16, -0.06, 0.61, -0.04, 0.07, -0.42]);
    } finally {
      ensemble.dispose();
      members.forEach((m) => m.dispose());
    }
  });

  it('refuses a model that already ends in a temperature', async () => {
    const model = tiny(4);
    const calibrated = await withTemperature(model, { temperature: [0.8], bias: null });
    const members = [tiny(5), tiny(6)];
    const ensemble = await buildEnsemble(members, 'ab');
    const calibratedEnsemble = await withTemperature(ensemble, { temperature: [0.8], bias: null });
    try {
      expect(() => temperatureMode(calibrated)).toThrow(CalibrationModelError);
      expect(() =>
        insertTemperature(calibratedEnsemble.toJSON(undefined, false), { temperature: [1], bias: null }),
      ).toThrow(/already calibrated/);
      expect(calibratedEnsemble.getLayer('probabilities.uncalibrated').getClassName()).toBe('Average');
    } finally {
      [model, calibrated, ensemble, calibratedEnsemble, ...members].forEach((m) => m.dispose());
    }
  });
});
