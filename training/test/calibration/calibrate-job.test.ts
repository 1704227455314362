// `npm run calibrate` end to end on versions published here: what it publishes, which images it
// fits on (the source's validation split, never the test split), and the sources it refuses.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { CLASSES, ONNX_FILE, readVersion, REPORT_DIR, type ModelMetadata } from '@fer/shared';
import { selectTrainingBackend } from '../../src/backend';
import { runCalibrate } from '../../src/calibration/calibrate-job';
import { parseCalibrateArgs } from '../../src/calibration/calibrate-options';
import { logProbabilities, scaledProbabilities } from '../../src/calibration/temperature-fit';
import { runEnsemble } from '../../src/ensemble/ensemble-job';
import { parseEnsembleArgs } from '../../src/ensemble/ensemble-options';
import { silentLogger } from '../../src/train/logger';
import { trainOne } from '../../src/train/train-job';
import { parseTrainArgs } from '../../src/train/train-options';
import { KAGGLE_FOLDERS, writeClassFolders, writeKaggleDataset } from '../helpers/synthetic-dataset';

const TIMEOUT_MS = 120_000;
/** Probabilities of the same graph in two files, from onnxruntime. */
const ONNX_TOLERANCE = 1e-5;
let tmp: string;
let paths: { cwd: string; repoRoot: string };

const context = {
  log: silentLogger(),
  progress: { epoch: () => ({ update: () => undefined, stop: () => undefined }) },
  print: () => undefined,
  backend: 'test',
  command: null,
  codeRevision: null,
};

async function trainMember(name: string, seed: number): Promise<void> {
  const argv = [
    '--backbone=resnet-tiny',
    '--data=data',
    '--input-size=32',
    '--epochs=6',
    '--batch-size=16',
    `--seed=${seed}`,
    '--split-seed=9',
    `--name=${name}`,
    '--registry=models',
    '--runs-dir=runs',
    '--no-calibrate',
  ];
  await trainOne(parseTrainArgs(argv, { ...paths, repoRoot: tmp }), 'resnet-tiny', context);
}

async function metadataOf(name: string, version: number): Promise<ModelMetadata> {
  const entry = await readVersion(path.join(tmp, 'models'), name, version);
  if (entry.status !== 'ready') throw new Error(`${name}@${version} is ${entry.status}`);
  return entry.metadata;
}

/** Publishes beside its source, in the test's models/ (the CLI's default is a scratch registry). */
const calibrate = (argv: string[], command: string | null = null) =>
  runCalibrate(parseCalibrateArgs(['--registry', 'models', ...argv], paths), {
    log: silentLogger(),
    command,
    codeRevision: null,
  });

async function runOnnx(file: string, input: Float32Array, n: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file);
  try {
    const out = await session.run({ input: new ort.Tensor('float32', input, [n, 32, 32, 3]) });
    return out.probabilities.data as Float32Array;
  } finally {
    await session.release();
  }
}

beforeAll(async () => {
  await selectTrainingBackend();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-calibrate-'));
  paths = { cwd: tmp, repoRoot: tmp };
  await writeKaggleDataset(path.join(tmp, 'data'), { train: 12, test: 4, seed: 5, format: 'png' });
  // The same training images with other test images.
  const other = path.join(tmp, 'other-test');
  await writeClassFolders(
    path.join(other, 'Training', 'Training'),
    KAGGLE_FOLDERS,
    12,
    { seed: 5, format: 'png' },
    'train',
  );
  await writeClassFolders(
    path.join(other, 'Testing', 'Testing'),
    KAGGLE_FOLDERS,
    4,
    { seed: 77, format: 'png' },
    'test',
  );
  await trainMember('a', 1);
  await trainMember('b', 2);
  await runEnsemble(
    parseEnsembleArgs(
      [
        '--member',
        'models/a@1',
        '--member',
        'models/b@1',
        '--data',
        'data',
        '--name',
        'ab',
        '--registry',
        'models',
        '--mirror',
        '--no-calibrate',
      ],
      {
        ...paths,
        repoRoot: tmp,
      },
    ),
    { log: silentLogger(), command: null, codeRevision: null },
  );
}, TIMEOUT_MS * 2);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('runCalibrate', () => {
  it(
    'publishes the next version of a trained model with the temperature fitted on its own validation split',
    async () => {
      const result = await calibrate(
        ['--model', 'models/a@1', '--data', 'data'],
        'npm run calibrate -- --model models/a@1',
      );
      expect([result.name, result.version]).toEqual(['a', 2]);
      const source = await metadataOf('a', 1);
      const calibrated = await metadataOf('a', 2);
      expect(calibrated.calibration).toMatchObject({
        applied_to: 'logits',
        fitted_on: { split: 'validation', split_seed: 9, fraction: 0.1, samples: 6 },
        source: { name: 'a', version: 1 },
        command: 'npm run calibrate -- --model models/a@1',
      });
      // The network and its record are the source's; the metrics are the calibrated model's.
      expect(calibrated.training).toEqual(source.training);
      expect(calibrated.preprocessing).toEqual(source.preprocessing);
      expect(calibrated.metrics?.calibration?.bins).toBe(15);
      expect(calibrated.metrics?.samples).toBe(source.metrics?.samples);
      if (typeof calibrated.calibration!.temperature === 'number')
        expect(calibrated.metrics?.confusion_matrix).toEqual(source.metrics?.confusion_matrix);

      const report = await readFile(path.join(tmp, 'models', 'a', '2', REPORT_DIR, 'report.md'), 'utf8');
      expect(report).toContain('# a: a v1 with a temperature');
      expect(report).toContain('## Calibration');
      expect(calibrated.artifacts.map((a) => a.path)).toEqual(
        expect.arrayContaining([
          'report/source-report.md',
          'report/curves.svg',
          'report/epochs.jsonl',
          'report/reliability.png',
        ]),
      );
    },
    TIMEOUT_MS,
  );

  it(
    'calibrates a mirrored ensemble as power and renormalise of its mean, whatever the test split holds',
    async () => {
      const first = await calibrate(['--model', 'models/ab@1', '--data', 'data', '--name', 'ab-cal']);
      const second = await calibrate([
        '--model',
        'models/ab@1',
        '--data',
        'other-test',
        '--name',
        'ab-cal-other',
      ]);
      const [source, calibrated, other] = [
        await metadataOf('ab', 1),
        await metadataOf('ab-cal', 1),
        await metadataOf('ab-cal-other', 1),
      ];
      expect(calibrated.calibration?.applied_to).toBe('probabilities');
      expect(calibrated.calibration?.fitted_on).toEqual({
        split: 'validation',
        split_seed: 9,
        fraction: 0.1,
        samples: 6,
      });
      // Another test split: other test metrics, the very same temperature.
      expect(other.calibration?.temperature).toEqual(calibrated.calibration?.temperature);
      expect(second.test.confusion_matrix).not.toEqual(first.test.confusion_matrix);
      expect(calibrated.ensemble?.members).toEqual(source.ensemble?.members);

      const t = calibrated.calibration!.temperature;
      const temperature = typeof t === 'number' ? [t] : CLASSES.map((c) => t[c]);
      const batch = new Float32Array(3 * 32 * 32 * 3).map((_, i) => Math.sin(i * 0.29) * 2);
      const before = await runOnnx(path.join(tmp, 'models', 'ab', '1', ONNX_FILE), batch, 3);
      const after = await runOnnx(path.join(tmp, 'models', 'ab-cal', '1', ONNX_FILE), batch, 3);
      const expected = scaledProbabilities(logProbabilities(before), temperature, CLASSES.length);
      after.forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThan(ONNX_TOLERANCE));
    },
    TIMEOUT_MS,
  );

  it('refuses a calibrated source, another dataset, and a model reference without its registry', async () => {
    await expect(calibrate(['--model', 'models/a@2', '--data', 'data'])).rejects.toThrow(
      /already calibrated/,
    );
    await expect(calibrate(['--model', 'models/b@1', '--data', 'other-test'])).rejects.toThrow(
      /is not the dataset b@1 was trained on/,
    );
    expect(() => parseCalibrateArgs(['--model', 'a@1', '--data', 'data'], paths)).toThrow(/REGISTRY\/NAME/);
    expect(() => parseCalibrateArgs(['--model', 'models/a@1'], paths)).toThrow(/--data is required/);
  });

  it('refuses an ensemble whose recorded validation score the data does not reproduce', async () => {
    const shuffled = path.join(tmp, 'relabelled');
    // The same images under other class names: the rebuilt split scores differently.
    const rotated = [...KAGGLE_FOLDERS.slice(1), KAGGLE_FOLDERS[0]];
    await writeClassFolders(
      path.join(shuffled, 'Training', 'Training'),
      rotated,
      12,
      { seed: 5, format: 'png' },
      'train',
    );
    await writeClassFolders(
      path.join(shuffled, 'Testing', 'Testing'),
      rotated,
      4,
      { seed: 5, format: 'png' },
      'test',
    );
    await expect(
      calibrate(['--model', 'models/ab@1', '--data', 'relabelled', '--name', 'x']),
    ).rejects.toThrow(/is not the one ab@1 was scored on/);
  });
});
