// The full-size backbones: parameter counts equal torchvision 0.14's for every depth, and the
// importer maps every key of the real resnet152 / densenet161 ImageNet state dicts (manifests of
// key and shape written by make_torch_fixtures.py) onto a layer of the right shape.
// Each full model is built once here (a few seconds each on 2 cores).
import { Writable } from 'node:stream';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '@fer/shared/tfjs';
import {
  buildBackbone,
  countParameters,
  describeModelWeights,
  headLayerName,
  planWeightImport,
  resolveBackbone,
  WeightMismatchError,
} from '../../src/backbones';
import { createLogger } from '../../src/train/logger';
import { readJsonFixture, type KeyManifest } from './fixtures';

const NUM_CLASSES = 6;
/** Parameter counts do not depend on the input size; a small one keeps activations cheap. */
const INPUT_SIZE = 64;
/**
 * Drawing 58 M seeded truncated normals takes ~2.5 s in plain Node but over 30 s inside jest's vm
 * context (global lookups in tfjs' random generator are slow there), so these tests build with
 * init 'zeros': same layers and shapes, kernels left at zero. Budget for slow shared CI cores.
 */
const FULL_MODEL_TIMEOUT_MS = 60_000;

/**
 * `sum(p.numel() for p in torchvision.models.<name>(num_classes=6).parameters())` with torchvision 0.14
 * (issue 3 gives resnet152 and densenet161; the others were computed the same way).
 */
const TORCHVISION_PARAMETERS_6_CLASSES: Record<string, number> = {
  resnet18: 11_179_590,
  resnet34: 21_287_750,
  resnet50: 23_520_326,
  resnet101: 42_512_454,
  resnet152: 58_156_102,
  densenet121: 6_960_006,
  densenet161: 26_485_254,
  densenet169: 12_494_470,
  densenet201: 18_104_454,
};

beforeAll(async () => {
  await selectBackend('cpu');
});

describe.each(['resnet152', 'densenet161'])('%s', (name) => {
  let model: tf.LayersModel;
  const manifest = readJsonFixture<KeyManifest>(`${name}.keys.json`);
  const tensors = manifest.keys.map(({ key, shape }) => ({ key, shape }));
  const headLayer = headLayerName(resolveBackbone(name));

  beforeAll(() => {
    const started = Date.now();
    model = buildBackbone(name, { inputSize: INPUT_SIZE, numClasses: NUM_CLASSES, seed: 1, init: 'zeros' });
    console.log(`built ${name} in ${Date.now() - started} ms`);
  }, FULL_MODEL_TIMEOUT_MS);
  afterAll(() => model?.dispose());

  it('has exactly torchvision parameter count for 6 classes', () => {
    expect(countParameters(model)).toBe(TORCHVISION_PARAMETERS_6_CLASSES[name]);
  });

  it('takes every ImageNet key except the 1000-class head, with matching shapes', () => {
    const plan = planWeightImport(describeModelWeights(model), tensors, { headLayer });
    expect(plan.headReplaced).toBe(true);
    // All our weights except the fresh head get a tensor; everything else in the file is a BN counter or the old head.
    expect(plan.assignments).toHaveLength(model.weights.length - 2);
    const counters = manifest.keys
      .filter(({ key }) => key.endsWith('.num_batches_tracked'))
      .map(({ key }) => key);
    expect(plan.ignoredKeys.sort()).toEqual([...counters, `${headLayer}.weight`, `${headLayer}.bias`].sort());
    expect(plan.assignments.length + plan.ignoredKeys.length).toBe(manifest.keys.length);
  });

  it('loads the head too when the class count matches (1000)', () => {
    const specs = describeModelWeights(model).map((spec) =>
      spec.layer !== headLayer
        ? spec
        : { ...spec, shape: spec.role === 'bias' ? [1000] : [spec.shape[0], 1000] },
    );
    const plan = planWeightImport(specs, tensors, { headLayer, head: 'load' });
    expect(plan.headReplaced).toBe(false);
    expect(plan.assignments).toHaveLength(model.weights.length);
  });

  it('names the head when it must load but the shape differs', () => {
    const attempt = () => planWeightImport(describeModelWeights(model), tensors, { headLayer, head: 'load' });
    expect(attempt).toThrow(WeightMismatchError);
    expect(attempt).toThrow(
      `key "${headLayer}.weight" has shape [1000, ${manifest.keys.find((k) => k.key === `${headLayer}.weight`)?.shape[1]}]`,
    );
  });
});

describe("the other study backbone's file", () => {
  /** A message and a log line a person can read: the count and the first few problems. */
  const MAX_MESSAGE_CHARS = 2_000;

  it('is refused with the count and the first few of its ~2,000 problems, in the message and the log', () => {
    const model = buildBackbone('densenet161', {
      inputSize: INPUT_SIZE,
      numClasses: NUM_CLASSES,
      init: 'zeros',
    });
    const resnet = readJsonFixture<KeyManifest>('resnet152.keys.json');
    let caught: unknown;
    try {
      planWeightImport(
        describeModelWeights(model),
        resnet.keys.map(({ key, shape }) => ({ key, shape })),
        { headLayer: 'classifier', context: 'resnet152.pth does not fit model "densenet161"' },
      );
    } catch (error) {
      caught = error;
    } finally {
      model.dispose();
    }
    expect(caught).toBeInstanceOf(WeightMismatchError);
    const error = caught as WeightMismatchError;
    expect(error.problemCount).toBeGreaterThan(1_000);
    expect(error.problems).toHaveLength(error.problemCount);
    expect(error.message).toMatch(
      new RegExp(
        `^resnet152\\.pth does not fit model "densenet161": ${error.problemCount} problem\\(s\\): .*; \\.\\.\\. and \\d+ more$`,
      ),
    );
    expect(error.message.length).toBeLessThan(MAX_MESSAGE_CHARS);

    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    createLogger({ job: 'train', destination: sink }).error({ err: error }, 'training failed');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('"problemCount":');
    expect(lines[0].length).toBeLessThan(MAX_MESSAGE_CHARS + 2_000); // + the stack
  });
});

describe('every torchvision depth', () => {
  it.each(['resnet18', 'resnet34', 'resnet50', 'resnet101', 'densenet121', 'densenet169', 'densenet201'])(
    '%s has torchvision parameter count for 6 classes',
    (name) => {
      const model = buildBackbone(name, { inputSize: INPUT_SIZE, numClasses: NUM_CLASSES, init: 'zeros' });
      expect(countParameters(model)).toBe(TORCHVISION_PARAMETERS_6_CLASSES[name]);
      model.dispose();
    },
    FULL_MODEL_TIMEOUT_MS,
  );
});
