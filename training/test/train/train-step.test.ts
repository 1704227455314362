import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '@fer/shared/tfjs';
import { AdamW } from '../../src/train/adamw';
import { trainStep, type StepContext } from '../../src/train/train-step';

/** float32 sums in a different grouping. */
const TOLERANCE = 1e-5;
const SIZE = 4;
const N = 6;

beforeAll(async () => {
  await selectBackend('cpu');
});

/** A batch-norm-free model (so micro-batches change nothing but the summation order). */
function tinyModel(): tf.LayersModel {
  const input = tf.input({ shape: [SIZE, SIZE, 3] });
  const flat = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
  const hidden = tf.layers
    .dense({ units: 5, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) })
    .apply(flat) as tf.SymbolicTensor;
  const logits = tf.layers
    .dense({ units: 3, name: 'fc', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) })
    .apply(hidden) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits });
}

function context(model: tf.LayersModel, microBatch: number | null, weighted: boolean): StepContext {
  return {
    logitsModel: model,
    variables: model.trainableWeights.map((w) => w.read() as tf.Variable),
    keys: model.trainableWeights.map((_, i) => i),
    optimizer: new AdamW({ beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, clipNorm: 1 }),
    loss: { labelSmoothing: 0.1, classWeights: weighted ? Float32Array.from([0.5, 2, 1]) : null },
    microBatch,
    inputSize: SIZE,
  };
}

const batch = {
  x: Float32Array.from({ length: N * SIZE * SIZE * 3 }, (_, i) => Math.sin(i * 0.37)),
  y: Int32Array.from([0, 1, 2, 2, 1, 0]),
  n: N,
};

describe('trainStep', () => {
  it.each([false, true])(
    'gives the same loss and update with micro-batches as with the whole batch (class weights: %s)',
    async (weighted) => {
      const whole = tinyModel();
      const micro = tinyModel();
      const a = context(whole, null, weighted);
      const b = context(micro, 4, weighted); // uneven: 4 + 2
      const outA = trainStep(a, batch, { lr: 0.01, beta1: 0.9 });
      const outB = trainStep(b, batch, { lr: 0.01, beta1: 0.9 });
      expect(Math.abs(outA.loss - outB.loss)).toBeLessThan(TOLERANCE);
      expect(outB.correct).toBe(outA.correct);
      const wa = await Promise.all(whole.getWeights().map((w) => w.data()));
      const wb = await Promise.all(micro.getWeights().map((w) => w.data()));
      wa.forEach((values, i) =>
        values.forEach((v, j) => expect(Math.abs(v - wb[i][j])).toBeLessThan(TOLERANCE)),
      );
      a.optimizer.dispose();
      b.optimizer.dispose();
    },
  );

  it('leaves no tensors behind but the optimizer slots', () => {
    const model = tinyModel();
    const ctx = context(model, 4, true);
    trainStep(ctx, batch, { lr: 0.01, beta1: 0.9 });
    const after = tf.memory().numTensors;
    trainStep(ctx, batch, { lr: 0.01, beta1: 0.9 });
    expect(tf.memory().numTensors).toBe(after);
    ctx.optimizer.dispose();
  });
});
