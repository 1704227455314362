// The ensemble of real (small) backbones: its output is the members' mean, and its ONNX export
// computes the same thing.
import * as tf from '@tensorflow/tfjs';
import { onnx } from 'onnx-proto';
import { selectBackend } from '@fer/shared/tfjs';
import { buildBackbone } from '../../src/backbones';
import { buildEnsemble } from '../../src/ensemble/ensemble-model';
import { EnsembleTopologyError, mergeTopologies } from '../../src/ensemble/merge-topology';
import { exportToOnnx } from '../../src/export/onnx';
import { bothRuntimes, maxAbsDiff, PARITY_TOLERANCE, randomInput, runTfjs } from '../export/parity-helpers';

const SIZE = 32;
const member = (config: string, seed: number, inputSize = SIZE) =>
  buildBackbone(config, { inputSize, numClasses: 6, seed });

beforeAll(async () => {
  await selectBackend('cpu');
});

describe('buildEnsemble', () => {
  const members: tf.LayersModel[] = [];
  let ensemble: tf.LayersModel;

  beforeAll(async () => {
    // Two architectures, so the merge is checked on more than one layer vocabulary.
    members.push(member('resnet-tiny', 1), member('resnet-tiny', 2), member('densenet-tiny', 3));
    ensemble = await buildEnsemble(members, 'tiny-ensemble');
  });
  afterAll(() => {
    for (const m of [...members, ensemble]) m.dispose();
  });

  it('outputs the mean of the members probabilities', () => {
    const input = randomInput(ensemble, 4, 11);
    const outputs = members.map((m) => runTfjs(m, input));
    const mean = outputs[0].map((_, i) => outputs.reduce((sum, o) => sum + o[i], 0) / outputs.length);
    const got = runTfjs(ensemble, input);
    input.dispose();
    expect(got).toHaveLength(4 * 6);
    expect(maxAbsDiff(got, mean)).toBeLessThan(1e-6);
    // The members disagree, so a mean that ignored all but one would fail the check above.
    expect(maxAbsDiff(outputs[0], outputs[1])).toBeGreaterThan(1e-3);
  });

  it('keeps one shared input and names member layers like torch ModuleList entries', () => {
    expect(ensemble.inputs).toHaveLength(1);
    expect(ensemble.outputs).toHaveLength(1);
    expect(ensemble.outputs[0].shape).toEqual([null, 6]);
    const names = ensemble.layers.map((l) => l.name);
    expect(names.filter((n) => n === 'input')).toHaveLength(1);
    expect(names).toContain('members.0.conv1');
    expect(names).toContain('members.2.features.conv0');
    expect(names[names.length - 1]).toBe('probabilities');
    const memberWeights = members.reduce((sum, m) => sum + m.countParams(), 0);
    expect(ensemble.countParams()).toBe(memberWeights);
  });

  it('exports to ONNX with the same probabilities', async () => {
    const { onnx: fromOrt, tfjs: fromTfjs } = await bothRuntimes(
      ensemble,
      exportToOnnx(ensemble).bytes,
      3,
      12,
    );
    expect(fromOrt.dims).toEqual([3, 6]);
    expect(maxAbsDiff(fromOrt.data, fromTfjs)).toBeLessThan(PARITY_TOLERANCE);
  });
});

describe('buildEnsemble with mirror', () => {
  const members: tf.LayersModel[] = [];
  let ensemble: tf.LayersModel;

  beforeAll(async () => {
    members.push(member('resnet-tiny', 1), member('densenet-tiny', 3));
    ensemble = await buildEnsemble(members, 'mirrored', { mirror: true });
  });
  afterAll(() => {
    for (const m of [...members, ensemble]) m.dispose();
  });

  it('averages every member over the image and its mirror image, with one copy of the weights', () => {
    const input = randomInput(ensemble, 3, 21);
    const mirrored = tf.reverse(input, 2);
    const outputs = members.flatMap((m) => [runTfjs(m, input), runTfjs(m, mirrored)]);
    const mean = outputs[0].map((_, i) => outputs.reduce((sum, o) => sum + o[i], 0) / outputs.length);
    const got = runTfjs(ensemble, input);
    // A mirrored input gives the same answer: the average is symmetric in the two views.
    const gotMirrored = runTfjs(ensemble, mirrored);
    tf.dispose([input, mirrored]);
    expect(maxAbsDiff(got, mean)).toBeLessThan(1e-6);
    expect(maxAbsDiff(got, gotMirrored)).toBeLessThan(1e-6);
    // The views differ for a random input, so an average that skipped the mirror would fail above.
    expect(maxAbsDiff(outputs[0], outputs[1])).toBeGreaterThan(1e-4);
    expect(ensemble.countParams()).toBe(members[0].countParams() + members[1].countParams());
    expect(ensemble.getLayer('members.0.conv1').inboundNodes).toHaveLength(2);
  });

  it('exports to ONNX with the same probabilities and each weight stored once', async () => {
    const plain = await buildEnsemble(members, 'plain');
    const single = exportToOnnx(plain);
    plain.dispose();
    const { bytes, stats } = exportToOnnx(ensemble);
    // The mirror's second pass adds nodes but no weights (just the mirror's index list).
    expect(stats.initializers).toBe(single.stats.initializers + 1);
    const weightBytes = (model: Uint8Array) =>
      onnx.ModelProto.decode(model).graph!.initializer!.reduce((sum, t) => sum + (t.rawData?.length ?? 0), 0);
    expect(weightBytes(bytes)).toBe(weightBytes(single.bytes) + SIZE * 8); // + int64 indices of the width
    expect(stats.foldedBatchNorms).toBe(single.stats.foldedBatchNorms);
    const { onnx: fromOrt, tfjs: fromTfjs } = await bothRuntimes(ensemble, bytes, 3, 22);
    expect(maxAbsDiff(fromOrt.data, fromTfjs)).toBeLessThan(PARITY_TOLERANCE);
  });
});

describe('mergeTopologies', () => {
  it('refuses a single member, and members with different input sizes', () => {
    const a = member('resnet-tiny', 1);
    const b = member('resnet-tiny', 2, 48);
    try {
      const json = (m: tf.LayersModel) => m.toJSON(undefined, false);
      expect(() => mergeTopologies([json(a)], 'x')).toThrow(/at least two members/);
      expect(() => mergeTopologies([json(a), json(b)], 'x')).toThrow(EnsembleTopologyError);
      expect(() => mergeTopologies([json(a), json(b)], 'x')).toThrow(/member 1 takes input \[null,48,48,3\]/);
      expect(() => mergeTopologies([json(a), { config: {} }], 'x')).toThrow(/not a functional/);
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});
