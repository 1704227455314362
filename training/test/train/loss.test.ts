import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '@fer/shared/tfjs';
import { crossEntropy } from '../../src/train/loss';
import { meanCrossEntropy } from '../../src/train/predict';
import reference from './fixtures/torch-reference.json';

const TOLERANCE = 1e-5;

beforeAll(async () => {
  await selectBackend('cpu');
});

describe('crossEntropy', () => {
  const ref = reference.cross_entropy;
  const cases: [string, number, boolean, number][] = [
    ['plain', 0, false, ref.plain],
    ['label smoothing', 0.1, false, ref.smoothed],
    ['class weights', 0, true, ref.weighted],
    ['class weights and label smoothing', 0.1, true, ref.weighted_smoothed],
  ];

  it.each(cases)('matches torch.nn.functional.cross_entropy with %s', (_, smoothing, weighted, expected) => {
    const value = tf.tidy(
      () =>
        crossEntropy(tf.tensor2d(ref.logits, [5, 4]), tf.tensor1d(ref.labels, 'int32'), {
          labelSmoothing: smoothing,
          classWeights: weighted ? Float32Array.from(ref.weights) : null,
        }).dataSync()[0],
    );
    expect(Math.abs(value - expected)).toBeLessThan(TOLERANCE);
  });

  it('agrees with the validation loss computed in plain JS', () => {
    const js = meanCrossEntropy(Float32Array.from(ref.logits), Int32Array.from(ref.labels), 4);
    expect(Math.abs(js - ref.plain)).toBeLessThan(TOLERANCE);
  });
});
