// Numeric parity with torchvision: each reduced fixture (random weights and BatchNorm statistics,
// saved by torch) imported into our model must reproduce torchvision's logits for the fixed input,
// on the pure-npm backends (cpu and wasm).
import * as tf from '@tensorflow/tfjs';
import { type BackendName } from '@fer/shared';
import { selectBackend } from '@fer/shared/tfjs';
import {
  BACKBONES,
  buildBackbone,
  countParameters,
  headLayerName,
  importStateDict,
  readStateDict,
  resolveBackbone,
} from '../../../src/backbones';
import { fixtureBytes, parityInput, readJsonFixture, type ParityFixture } from '../fixtures';

/** Max abs difference allowed between our logits/probabilities and torchvision's (issue 3). */
const PARITY_TOLERANCE = 1e-4;
/** A wrong layout must miss by far more than the tolerance, or the parity check proves nothing. */
const LAYOUT_ERROR_MIN_DIFF = 1e-2;
const BACKENDS: BackendName[] = ['cpu', 'wasm'];

const fixture = readJsonFixture<ParityFixture>('parity.json');
const [batch, channels, height, width] = fixture.input.shape;
const inputNchw = parityInput(fixture);

function maxAbsDiff(actual: number[][], expected: number[][]): number {
  expect(actual.length).toBe(expected.length);
  let max = 0;
  actual.forEach((row, i) => {
    expect(row.length).toBe(expected[i].length);
    row.forEach((value, j) => (max = Math.max(max, Math.abs(value - expected[i][j]))));
  });
  return max;
}

/** Runs the model and returns [logits from the head layer, probabilities]. */
function logitsAndProbabilities(model: tf.LayersModel, head: string, nhwc: tf.Tensor4D): number[][][] {
  const both = tf.model({
    inputs: model.inputs,
    outputs: [model.getLayer(head).output as tf.SymbolicTensor, model.outputs[0]],
  });
  return tf.tidy(() => (both.predict(nhwc) as tf.Tensor[]).map((t) => t.arraySync() as number[][]));
}

const cases = Object.entries(fixture.models).flatMap(([name, entry]) =>
  [`${name}.pth`, `${name}.safetensors`, ...(entry.legacyFile ? [entry.legacyFile] : [])].map((file) => ({
    name,
    file,
  })),
);

it('fixtures were made from the same configurations as BACKBONES', async () => {
  await selectBackend('cpu');
  for (const [name, entry] of Object.entries(fixture.models)) {
    expect(BACKBONES[name]).toEqual(entry.config);
    const model = buildBackbone(name, { inputSize: height, numClasses: entry.numClasses });
    expect(countParameters(model)).toBe(entry.parameters);
    model.dispose();
  }
  expect(channels).toBe(3);
  expect(height).toBe(width);
});

describe.each(BACKENDS)('on the %s backend', (backend) => {
  let nhwc: tf.Tensor4D;
  const measured: string[] = [];

  beforeAll(async () => {
    await selectBackend(backend);
    // torch feeds NCHW; our models take the NHWC transpose of the same numbers.
    nhwc = tf.tidy(() =>
      tf.transpose(tf.tensor4d(inputNchw, [batch, channels, height, width]), [0, 2, 3, 1]),
    );
  });
  afterAll(() => {
    nhwc.dispose();
    console.log(`parity max |diff| on ${backend}:\n  ${measured.join('\n  ')}`);
  });

  it.each(cases)('$file reproduces torchvision within the tolerance', ({ name, file }) => {
    const expected = fixture.models[name];
    const model = buildBackbone(name, { inputSize: height, numClasses: expected.numClasses, seed: 11 });
    const report = importStateDict(model, readStateDict(fixtureBytes(file), file), { head: 'load' });
    expect(report.headReplaced).toBe(false);
    expect(report.loaded).toBe(model.weights.length);

    const head = headLayerName(resolveBackbone(name));
    const [logits, probabilities] = logitsAndProbabilities(model, head, nhwc);
    const logitDiff = maxAbsDiff(logits, expected.logits);
    const probabilityDiff = maxAbsDiff(probabilities, expected.probabilities);
    measured.push(
      `${file}: logits ${logitDiff.toExponential(2)}, probabilities ${probabilityDiff.toExponential(2)}`,
    );
    expect(logitDiff).toBeLessThan(PARITY_TOLERANCE);
    expect(probabilityDiff).toBeLessThan(PARITY_TOLERANCE);
    model.dispose();
  });

  it('fails by far when the layout is wrong (height and width swapped)', () => {
    const name = 'resnet-tiny';
    const model = buildBackbone(name, { inputSize: height, numClasses: fixture.models[name].numClasses });
    importStateDict(model, readStateDict(fixtureBytes(`${name}.pth`)), { head: 'load' });
    const swapped = tf.transpose(nhwc, [0, 2, 1, 3]) as tf.Tensor4D;
    const [logits] = logitsAndProbabilities(model, 'fc', swapped);
    expect(maxAbsDiff(logits, fixture.models[name].logits)).toBeGreaterThan(LAYOUT_ERROR_MIN_DIFF);
    swapped.dispose();
    model.dispose();
  });

  it('does not leak tensors while importing and predicting', () => {
    const model = buildBackbone('densenet-tiny', { inputSize: height, numClasses: 6 });
    const before = tf.memory().numTensors;
    importStateDict(model, readStateDict(fixtureBytes('densenet-tiny.safetensors')));
    logitsAndProbabilities(model, 'classifier', nhwc);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
