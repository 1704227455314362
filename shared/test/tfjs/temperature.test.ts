import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  LogitTemperature,
  loadLayersModel,
  ProbabilityTemperature,
  saveLayersModel,
  selectBackend,
} from '../../src/tfjs';

/** float32 results against float64 arithmetic done here. */
const TOLERANCE = 1e-6;

beforeAll(async () => {
  await selectBackend('cpu');
});

function softmax(row: readonly number[]): number[] {
  const max = Math.max(...row);
  const e = row.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

function run(layer: tf.layers.Layer, rows: number[][]): number[][] {
  const x = tf.tensor2d(rows);
  const y = layer.apply(x) as tf.Tensor;
  const out = y.arraySync() as number[][];
  tf.dispose([x, y]);
  return out;
}

describe('LogitTemperature', () => {
  it('divides the logits by one temperature, or by one per class', () => {
    const logits = [
      [2, -1, 0.5],
      [0, 3, -2],
    ];
    const scalar = run(new LogitTemperature({ temperature: [2] }), logits);
    scalar.flat().forEach((v, i) => expect(Math.abs(v - logits.flat()[i] / 2)).toBeLessThan(TOLERANCE));
    const vector = run(new LogitTemperature({ temperature: [1, 2, 4] }), logits);
    expect(vector[1]).toEqual([0, 1.5, -0.5]);
  });

  it('adds a per-class bias after the division', () => {
    const logits = [[2, -1, 0.5]];
    const got = run(new LogitTemperature({ temperature: [2], bias: [0.5, -0.25, 0] }), logits);
    [1.5, -0.75, 0.25].forEach((v, c) => expect(Math.abs(got[0][c] - v)).toBeLessThan(TOLERANCE));
    expect(() => new LogitTemperature({ temperature: [1], bias: [Number.NaN] })).toThrow(/finite numbers/);
    expect(() => run(new LogitTemperature({ name: 't', temperature: [1], bias: [0, 1] }), logits)).toThrow(
      /2 biases for 3 classes/,
    );
  });

  it('refuses temperatures that are not positive, and a vector of the wrong length', () => {
    expect(() => new LogitTemperature({ temperature: [0] })).toThrow(/positive numbers/);
    expect(() => new LogitTemperature({ temperature: [] })).toThrow(/non-empty/);
    expect(() => new LogitTemperature({ temperature: [Number.NaN] })).toThrow(/positive numbers/);
    expect(() => run(new LogitTemperature({ name: 't', temperature: [1, 2] }), [[1, 2, 3]])).toThrow(
      /2 temperatures for 3 classes/,
    );
  });
});

describe('ProbabilityTemperature', () => {
  it('raises probabilities to 1/T and renormalises them, keeping zeros at zero', () => {
    const p = [
      [0.5, 0.3, 0.2],
      [0.9, 0.1, 0],
    ];
    const got = run(new ProbabilityTemperature({ temperature: [0.5] }), p);
    p.forEach((row, i) => {
      const powered = row.map((v) => v ** 2);
      const sum = powered.reduce((a, b) => a + b, 0);
      powered.forEach((v, c) => expect(Math.abs(got[i][c] - v / sum)).toBeLessThan(TOLERANCE));
    });
    expect(got[1][2]).toBe(0);
  });

  it('equals the softmax of the logits over T when its input is their softmax', () => {
    const logits = [3, -1, 0.25, 2];
    const got = run(new ProbabilityTemperature({ temperature: [1.7] }), [softmax(logits)]);
    const expected = softmax(logits.map((z) => z / 1.7));
    got[0].forEach((v, c) => expect(Math.abs(v - expected[c])).toBeLessThan(TOLERANCE));
  });
});

it('both survive a save and load of the model folder with their temperatures and bias (registered on import)', async () => {
  const input = tf.input({ shape: [3], name: 'input' });
  const scaled = new LogitTemperature({ name: 'fc.temperature', temperature: [0.5, 1, 2] }).apply(input);
  const softmaxed = tf.layers.activation({ name: 'softmax', activation: 'softmax' }).apply(scaled);
  const output = new ProbabilityTemperature({
    name: 'probabilities',
    temperature: [1.5],
    bias: [0.2, 0, -0.2],
  }).apply(softmaxed);
  const model = tf.model({ inputs: input, outputs: output as tf.SymbolicTensor });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fer-temperature-'));
  try {
    await saveLayersModel(model, dir);
    const loaded = await loadLayersModel(dir);
    expect(loaded.getLayer('fc.temperature')).toBeInstanceOf(LogitTemperature);
    expect((loaded.getLayer('probabilities') as ProbabilityTemperature).temperature).toEqual([1.5]);
    expect((loaded.getLayer('probabilities') as ProbabilityTemperature).bias).toEqual([0.2, 0, -0.2]);
    expect((loaded.getLayer('fc.temperature') as LogitTemperature).bias).toBeNull();
    const x = tf.tensor2d([[1, -2, 0.5]]);
    const [a, b] = [model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor];
    const expected = softmax(softmax([2, -2, 0.25]).map((p, c) => Math.log(p) / 1.5 + [0.2, 0, -0.2][c]));
    Array.from(b.dataSync()).forEach((v, c) => expect(Math.abs(v - expected[c])).toBeLessThan(TOLERANCE));
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    loaded.dispose();
  } finally {
    model.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});
