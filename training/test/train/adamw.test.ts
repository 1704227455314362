import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '@fer/shared/tfjs';
import { AdamW } from '../../src/train/adamw';
import reference from './fixtures/torch-reference.json';

/** float32 arithmetic in a different order than torch's. */
const TOLERANCE = 1e-5;

beforeAll(async () => {
  await selectBackend('cpu');
});

function expectClose(actual: ArrayLike<number>, expected: readonly number[]): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i])).toBeLessThan(TOLERANCE);
}

describe('AdamW', () => {
  const ref = reference.adamw;

  it('follows torch.optim.AdamW with clip_grad_norm_ step for step', async () => {
    const w = tf.variable(tf.tensor(ref.init.w, [3, 2]));
    const b = tf.variable(tf.tensor(ref.init.b, [2]));
    const optimizer = new AdamW({
      beta2: 0.999,
      epsilon: 1e-8,
      weightDecay: ref.weight_decay,
      clipNorm: ref.clip_norm,
    });
    for (const step of ref.steps) {
      const grads = [tf.tensor(step.grads.w, [3, 2]), tf.tensor(step.grads.b, [2])];
      const { gradNorm } = optimizer.apply([w, b], [0, 1], grads, { lr: step.lr, beta1: step.beta1 });
      expect(Math.abs(gradNorm - step.norm) / step.norm).toBeLessThan(TOLERANCE);
      expectClose(await w.data(), step.w);
      expectClose(await b.data(), step.b);
      tf.dispose(grads);
    }
    optimizer.dispose();
    tf.dispose([w, b]);
  });

  it('continues identically after its state is exported and imported', async () => {
    const run = async (interrupt: boolean) => {
      const v = tf.variable(tf.tensor([1, -2, 3]));
      let optimizer = new AdamW({ beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, clipNorm: null });
      for (let i = 0; i < 4; i++) {
        if (interrupt && i === 2) {
          const state = await optimizer.exportState();
          optimizer.dispose();
          optimizer = new AdamW(optimizer.config);
          optimizer.importState(state, new Map([[0, [3]]]));
        }
        const g = tf.tensor([0.1 * i, -0.5, 1]);
        optimizer.apply([v], [0], [g], { lr: 0.1, beta1: 0.9 });
        g.dispose();
      }
      const out = await v.data();
      optimizer.dispose();
      v.dispose();
      return out;
    };
    expect(await run(true)).toEqual(await run(false));
  });

  it('does not leak tensors: two per variable while alive, none after dispose', () => {
    const v = tf.variable(tf.ones([4]));
    const g = tf.ones([4]);
    const before = tf.memory().numTensors;
    const optimizer = new AdamW({ beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01, clipNorm: 1 });
    optimizer.apply([v], [0], [g], { lr: 0.1, beta1: 0.9 });
    optimizer.apply([v], [0], [g], { lr: 0.1, beta1: 0.9 });
    expect(tf.memory().numTensors).toBe(before + 2);
    optimizer.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([v, g]);
  });
});
