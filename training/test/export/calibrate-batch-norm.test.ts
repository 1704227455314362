import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '@fer/shared/tfjs';
import { calibrateBatchNorm } from '../../src/export/calibrate-batch-norm';

/** float32 means of a few hundred values. */
const STAT_TOLERANCE = 1e-5;

beforeAll(async () => {
  await selectBackend('cpu');
});

describe('calibrateBatchNorm', () => {
  it('sets each moving mean / variance to the mean / second moment of its input on the sample', () => {
    const input = tf.input({ shape: [6, 6, 2] });
    const conv = tf.layers
      .conv2d({ filters: 3, kernelSize: 3, kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }) })
      .apply(input) as tf.SymbolicTensor;
    const bn1 = tf.layers.batchNormalization({ name: 'bn1' });
    const first = bn1.apply(conv) as tf.SymbolicTensor;
    // Dropout at inference returns its input: calibration must not free a tensor still needed.
    const dropped = tf.layers.dropout({ rate: 0.5 }).apply(first) as tf.SymbolicTensor;
    const bn2 = tf.layers.batchNormalization({ name: 'bn2', center: false, scale: false });
    const second = bn2.apply(
      tf.layers.add().apply([dropped, first]) as tf.SymbolicTensor,
    ) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: second });
    const sample = tf.randomNormal([4, 6, 6, 2], 1, 2, 'float32', 3);

    const before = tf.memory().numTensors;
    expect(calibrateBatchNorm(model, sample)).toBe(2);
    expect(tf.memory().numTensors).toBe(before);

    const probe = tf.model({ inputs: input, outputs: [conv, first] });
    const [convOut, firstOut] = probe.predict(sample) as tf.Tensor[];
    const expectStats = (layer: tf.layers.Layer, x: tf.Tensor) => {
      const weights = layer.getWeights();
      const [mean, variance] = weights.slice(-2).map((w) => Array.from(w.dataSync()));
      const expectedMean = Array.from(tf.mean(x, [0, 1, 2]).dataSync());
      const expectedSecond = Array.from(tf.mean(tf.square(x), [0, 1, 2]).dataSync());
      mean.forEach((v, i) => expect(Math.abs(v - expectedMean[i])).toBeLessThan(STAT_TOLERANCE));
      variance.forEach((v, i) => expect(Math.abs(v - expectedSecond[i])).toBeLessThan(STAT_TOLERANCE));
    };
    expectStats(bn1, convOut);
    expectStats(bn2, tf.add(firstOut, firstOut));
    // gamma and beta of bn1 are untouched (ones and zeros).
    expect(Array.from(bn1.getWeights()[0].dataSync())).toEqual([1, 1, 1]);
    expect(Array.from(bn1.getWeights()[1].dataSync())).toEqual([0, 0, 0]);
    tf.dispose([sample, convOut, firstOut]);
    model.dispose();
  });
});
