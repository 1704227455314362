// Weight files that must not load: each fails with a message naming the problem (truncated
// archive, wrong architecture, a missing key, a wrong shape, something that is not a state dict),
// and a failed import leaves the model's weights untouched. Also the classifier policies.
import * as tf from '@tensorflow/tfjs';
import { unzipSync, zipSync } from 'fflate';
import { selectBackend } from '@fer/shared/tfjs';
import {
  buildBackbone,
  importStateDict,
  readStateDict,
  WeightFileError,
  WeightMismatchError,
  type StateDict,
} from '../../../src/backbones';
import { fixtureBytes } from '../fixtures';

const INPUT_SIZE = 41;

beforeAll(async () => {
  await selectBackend('cpu');
});

function expectError(
  run: () => unknown,
  type: new (...args: never[]) => Error,
  message: RegExp | string,
): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(type);
  expect((caught as Error).message).toMatch(message);
}

function snapshot(model: tf.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync() as Float32Array);
}

describe('unreadable files', () => {
  it('a truncated torch zip names the archive as truncated or corrupt', () => {
    const bytes = fixtureBytes('resnet-tiny.pth');
    expectError(
      () => readStateDict(bytes.subarray(0, Math.floor(bytes.length / 2)), 'resnet-tiny.pth'),
      WeightFileError,
      /resnet-tiny\.pth: not a readable zip archive \(truncated or corrupt\)/,
    );
  });

  it('a truncated legacy torch file names the storage it stops in', () => {
    const bytes = fixtureBytes('densenet-tiny-legacy.pth');
    expectError(
      () => readStateDict(bytes.subarray(0, bytes.length - 100), 'old.pth'),
      WeightFileError,
      /old\.pth: storage \d+ is truncated/,
    );
  });

  it('a truncated safetensors file names the tensor that runs past the end', () => {
    const bytes = fixtureBytes('resnet-tiny.safetensors');
    expectError(
      () => readStateDict(bytes.subarray(0, bytes.length - 10), 'tiny.safetensors'),
      WeightFileError,
      /tiny\.safetensors: tensor "fc\.\w+" ends at byte \d+ of \d+ \(truncated file\)/,
    );
  });

  it('a zip whose storage entry is missing names the entry', () => {
    const entries = unzipSync(fixtureBytes('resnet-tiny.pth'));
    const storage = Object.keys(entries).find((name) => name.endsWith('/data/0')) as string;
    delete entries[storage];
    expectError(
      () => readStateDict(zipSync(entries), 'gap.pth'),
      WeightFileError,
      `storage ${storage} is missing`,
    );
  });

  it('a pickle that is not a state dict names the object it would have built', () => {
    // PROTO 2; GLOBAL 'builtins eval'; EMPTY_TUPLE; REDUCE; STOP: what a malicious or whole-model pickle looks like.
    const pickle = new Uint8Array([0x80, 2, ...Buffer.from('cbuiltins\neval\n', 'latin1'), 0x29, 0x52, 0x2e]);
    expectError(
      () => readStateDict(zipSync({ 'archive/data.pkl': pickle }), 'model.pth'),
      WeightFileError,
      /model\.pth: unsupported object builtins\.eval in the pickle; expected a plain state dict/,
    );
  });

  it('random bytes are neither torch nor safetensors', () => {
    expectError(
      () => readStateDict(new Uint8Array([1, 2, 3, 4]), 'x.bin'),
      WeightFileError,
      /x\.bin: not a torch\.save file/,
    );
    expectError(
      () => readStateDict(new Uint8Array(0), 'empty.pth'),
      WeightFileError,
      /empty\.pth: the file is empty/,
    );
  });
});

describe('files that do not fit the model', () => {
  let model: tf.LayersModel;
  let resnetTiny: StateDict;

  beforeAll(() => {
    model = buildBackbone('resnet-tiny', { inputSize: INPUT_SIZE, numClasses: 6, seed: 2 });
    resnetTiny = readStateDict(fixtureBytes('resnet-tiny.pth'), 'resnet-tiny.pth');
  });
  afterAll(() => model.dispose());

  it('the wrong architecture names unexpected and missing keys, and changes nothing', () => {
    const before = snapshot(model);
    let caught: unknown;
    try {
      importStateDict(model, readStateDict(fixtureBytes('densenet-tiny.pth')), {
        source: 'densenet-tiny.pth',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(WeightMismatchError);
    const error = caught as WeightMismatchError;
    expect(error.code).toBe('WEIGHT_MISMATCH');
    expect(error.message).toMatch(/^densenet-tiny\.pth does not fit model "resnet-tiny": \d+ problem\(s\)/);
    expect(error.problems).toContain(
      'unexpected key "features.conv0.weight": the model has no layer "features.conv0"',
    );
    expect(error.problems).toContain(
      'missing key "conv1.weight" for layer "conv1" (torch shape [4, 3, 7, 7])',
    );
    expect(snapshot(model)).toEqual(before);
  });

  it('a missing key is named with its layer and shape', () => {
    const dict: StateDict = new Map(resnetTiny);
    dict.delete('layer2.0.bn1.running_var');
    expectError(
      () => importStateDict(model, dict),
      WeightMismatchError,
      /1 problem\(s\): missing key "layer2\.0\.bn1\.running_var" for layer "layer2\.0\.bn1" \(torch shape \[8\]\)$/,
    );
  });

  it('an extra key is named', () => {
    const dict: StateDict = new Map(resnetTiny);
    dict.set('layer1.0.bn1.extra', resnetTiny.get('layer1.0.bn1.bias')!);
    expectError(
      () => importStateDict(model, dict),
      WeightMismatchError,
      'unexpected key "layer1.0.bn1.extra": layer "layer1.0.bn1" has no such weight',
    );
  });

  it('a wrong shape names the key and both shapes (in torch layout)', () => {
    const small = buildBackbone('resnet-small', { inputSize: INPUT_SIZE, numClasses: 6, init: 'zeros' });
    expectError(
      () => importStateDict(small, resnetTiny),
      WeightMismatchError,
      'key "conv1.weight" has shape [4, 3, 7, 7] but layer "conv1" needs [16, 3, 7, 7]',
    );
    small.dispose();
  });
});

describe('the classifier', () => {
  const dict = () => readStateDict(fixtureBytes('resnet-tiny.safetensors'));

  it('is replaced when the class count differs; everything else loads', () => {
    const model = buildBackbone('resnet-tiny', { inputSize: INPUT_SIZE, numClasses: 3, seed: 4 });
    const freshHead = model
      .getLayer('fc')
      .getWeights()
      .map((w) => w.dataSync());
    const state = dict();
    const report = importStateDict(model, state);
    expect(report.headReplaced).toBe(true);
    expect(report.ignoredKeys).toEqual(expect.arrayContaining(['fc.weight', 'fc.bias']));
    expect(
      model
        .getLayer('fc')
        .getWeights()
        .map((w) => w.dataSync()),
    ).toEqual(freshHead);
    // conv1 holds the file's OIHW kernel as HWIO: element [o=1, i=2, h=3, w=4] sits at [3, 4, 2, 1].
    const torchKernel = state.get('conv1.weight')!.values();
    const ours = model.getLayer('conv1').getWeights()[0].arraySync() as number[][][][];
    expect(ours[3][4][2][1]).toBe(torchKernel[((1 * 3 + 2) * 7 + 3) * 7 + 4]);
    model.dispose();
  });

  it("must match under head 'load', and the error names it", () => {
    const model = buildBackbone('resnet-tiny', { inputSize: INPUT_SIZE, numClasses: 3, init: 'zeros' });
    expectError(
      () => importStateDict(model, dict(), { head: 'load' }),
      WeightMismatchError,
      'key "fc.weight" has shape [6, 32] but layer "fc" needs [3, 32]',
    );
    model.dispose();
  });

  it("is kept under head 'replace' even when the file's head would fit, and may be absent", () => {
    const model = buildBackbone('resnet-tiny', { inputSize: INPUT_SIZE, numClasses: 6, seed: 4 });
    const freshHead = model
      .getLayer('fc')
      .getWeights()
      .map((w) => w.dataSync());
    const state = dict();
    expect(importStateDict(model, state, { head: 'replace' }).headReplaced).toBe(true);
    expect(
      model
        .getLayer('fc')
        .getWeights()
        .map((w) => w.dataSync()),
    ).toEqual(freshHead);
    state.delete('fc.weight');
    state.delete('fc.bias');
    expect(importStateDict(model, state, { head: 'replace' }).loaded).toBe(model.weights.length - 2);
    expectError(() => importStateDict(model, state), WeightMismatchError, 'missing key "fc.weight"');
    model.dispose();
  });
});
