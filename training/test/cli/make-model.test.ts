import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CLASSES, ONNX_FILE, readVersion, TFJS_DIR } from '@fer/shared';
import { loadLayersModel, selectBackend } from '@fer/shared/tfjs';
import { makeModel, parseMakeModelArgs } from '../../src/cli/make-model';
import { exportSource, ONNX_OPSET } from '../../src/export/onnx';
import { maxAbsDiff, ortSession, PARITY_TOLERANCE, runOrt, runTfjs } from '../export/parity-helpers';

const INPUT_SIZE = 32;

describe('parseMakeModelArgs', () => {
  it('reads the flags, defaulting name to the config and seed to 0', () => {
    const options = parseMakeModelArgs([
      '--config',
      'resnet-tiny',
      '--input-size',
      '32',
      '--registry',
      'reg',
    ]);
    expect(options).toEqual({
      config: 'resnet-tiny',
      inputSize: 32,
      registry: path.resolve('reg'),
      name: 'resnet-tiny',
      seed: 0,
      calibrate: true,
    });
    expect(
      parseMakeModelArgs([
        ...['--config', 'densenet-tiny', '--input-size', '40', '--registry', '/r', '--name', 'd1'],
        ...['--seed', '9', '--uncalibrated', '--backend', 'cpu', '--opset', '15'],
      ]),
    ).toMatchObject({ name: 'd1', seed: 9, calibrate: false, backend: 'cpu', opset: 15 });
  });

  it('explains what is wrong', () => {
    expect(() => parseMakeModelArgs(['--input-size', '32', '--registry', 'r'])).toThrow(
      /--config is required/,
    );
    expect(() => parseMakeModelArgs(['--config', 'resnet-tiny', '--registry', 'r'])).toThrow(
      /--input-size is required/,
    );
    expect(() =>
      parseMakeModelArgs(['--config', 'resnet9', '--input-size', '32', '--registry', 'r']),
    ).toThrow(/Unknown backbone "resnet9".*resnet152/);
    expect(() =>
      parseMakeModelArgs(['--config', 'resnet-tiny', '--input-size', '3x', '--registry', 'r']),
    ).toThrow(/--input-size must be an integer/);
    expect(() =>
      parseMakeModelArgs([
        '--config',
        'resnet-tiny',
        '--input-size',
        '32',
        '--registry',
        'r',
        '--name',
        '../x',
      ]),
    ).toThrow(/not a valid registry model name/);
    expect(() =>
      parseMakeModelArgs(['--config', 'resnet-tiny', '--input-size', '32', '--registry', 'r', '--gpu']),
    ).toThrow(/Unknown option '--gpu'/);
  });
});

describe('makeModel', () => {
  let registry: string;
  beforeAll(async () => {
    await selectBackend();
    registry = await mkdtemp(path.join(os.tmpdir(), 'fer-make-model-test-'));
  });
  afterAll(async () => {
    await rm(registry, { recursive: true, force: true });
  });

  it('publishes a complete, valid version whose tfjs/ and model.onnx agree', async () => {
    const made = await makeModel({
      config: 'resnet-tiny',
      inputSize: INPUT_SIZE,
      registry,
      name: 'tiny',
      seed: 4,
      calibrate: true,
    });
    expect(made).toMatchObject({ name: 'tiny', version: 1, config: 'resnet-tiny', input_size: INPUT_SIZE });

    const entry = await readVersion(registry, 'tiny', 1, { verify: 'sha256' });
    if (entry.status !== 'ready') throw new Error(`version is invalid: ${entry.problems.join('; ')}`);
    const { metadata } = entry;
    expect(metadata.export).toEqual({ onnx_opset: ONNX_OPSET, source: exportSource() });
    expect(metadata.architecture).toEqual({
      family: 'resnet',
      config: 'resnet-tiny',
      parameters: made.parameters,
    });
    expect(metadata.classes).toEqual([...CLASSES]);
    expect(metadata.preprocessing.input_size).toBe(INPUT_SIZE);
    expect(metadata).toMatchObject({ metrics: null, training: null });
    expect(metadata.artifacts.map((a) => a.path)).toEqual(
      expect.arrayContaining([ONNX_FILE, `${TFJS_DIR}/model.json`]),
    );

    const model = await loadLayersModel(path.join(made.dir, TFJS_DIR));
    const session = await ortSession(await readFile(path.join(made.dir, ONNX_FILE)));
    const x = tf.randomNormal([3, INPUT_SIZE, INPUT_SIZE, 3], 0, 1, 'float32', 8);
    const expected = runTfjs(model, x);
    expect(maxAbsDiff((await runOrt(session, x)).data, expected)).toBeLessThanOrEqual(PARITY_TOLERANCE);
    x.dispose();
    model.dispose();
    await session.release();
  });

  it('adds a new version for each call and never reuses a number', async () => {
    const options = {
      config: 'densenet-tiny',
      inputSize: INPUT_SIZE,
      registry,
      name: 'dense',
      seed: 1,
      calibrate: false,
    };
    const first = await makeModel(options);
    const second = await makeModel(options);
    expect([first.version, second.version]).toEqual([1, 2]);
  });
});
