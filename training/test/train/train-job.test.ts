import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { NUM_CLASSES, readVersion, REPORT_DIR, TFJS_DIR, type ModelMetadata } from '@fer/shared';
import { loadLayersModel } from '@fer/shared/tfjs';
import { buildBackbone, importWeightsFile } from '../../src/backbones';
import { selectTrainingBackend } from '../../src/backend';
import { silentLogger } from '../../src/train/logger';
import type { ProgressFactory } from '../../src/train/progress';
import { trainOne, type JobContext } from '../../src/train/train-job';
import { TrainingAbortedError } from '../../src/train/train-loop';
import { parseTrainArgs } from '../../src/train/train-options';
import { KAGGLE_FOLDERS, writeClassFolders, writeKaggleDataset } from '../helpers/synthetic-dataset';

const TIMEOUT_MS = 90_000;
let tmp: string;

beforeAll(async () => {
  await selectTrainingBackend();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-job-'));
  await writeKaggleDataset(path.join(tmp, 'data'), { train: 12, test: 4, seed: 5, format: 'png' });
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function context(
  progress: ProgressFactory = { epoch: () => ({ update: () => undefined, stop: () => undefined }) },
  signal?: AbortSignal,
): JobContext {
  return {
    log: silentLogger(),
    progress,
    print: () => undefined,
    backend: 'test',
    command: null,
    codeRevision: null,
    ...(signal ? { signal } : {}),
  };
}

describe('trainOne with --resume', () => {
  it(
    'continues a killed run, publishes once, and does not publish it again',
    async () => {
      const argv = [
        '--backbone=resnet-tiny',
        `--data=${path.join(tmp, 'data')}`,
        '--input-size=32',
        '--epochs=2',
        '--batch-size=16',
        `--registry=${path.join(tmp, 'models')}`,
        `--runs-dir=${path.join(tmp, 'runs')}`,
      ];
      const paths = { cwd: tmp, repoRoot: tmp };
      const controller = new AbortController();
      const killInEpoch2: ProgressFactory = {
        epoch: (label) => ({
          update: () => {
            if (label.startsWith('epoch 2/')) controller.abort();
          },
          stop: () => undefined,
        }),
      };
      await expect(
        trainOne(parseTrainArgs(argv, paths), 'resnet-tiny', context(killInEpoch2, controller.signal)),
      ).rejects.toBeInstanceOf(TrainingAbortedError);
      await expect(readdir(path.join(tmp, 'models'))).rejects.toThrow(); // nothing published

      const resumed = await trainOne(parseTrainArgs([...argv, '--resume'], paths), 'resnet-tiny', context());
      expect(resumed.version).toBe(1);
      expect(resumed.epochsRun).toBe(2);

      const again = await trainOne(parseTrainArgs([...argv, '--resume'], paths), 'resnet-tiny', context());
      expect(again.version).toBe(1);
      expect((await readdir(path.join(tmp, 'models', 'resnet-tiny'))).filter((n) => /^\d+$/.test(n))).toEqual(
        ['1'],
      );
    },
    TIMEOUT_MS,
  );
});

describe('trainOne with --pretrained and --freeze-epochs', () => {
  const weights = path.resolve(__dirname, '../fixtures/torchvision/resnet-tiny.pth');

  it(
    'starts from the torchvision weights and keeps the backbone frozen during head-only epochs',
    async () => {
      const argv = [
        '--backbone=resnet-tiny',
        `--data=${path.join(tmp, 'data')}`,
        '--input-size=32',
        '--epochs=1',
        '--freeze-epochs=1',
        '--batch-size=16',
        `--pretrained=${weights}`,
        `--registry=${path.join(tmp, 'pretrained-models')}`,
        `--runs-dir=${path.join(tmp, 'pretrained-runs')}`,
      ];
      const result = await trainOne(
        parseTrainArgs(argv, { cwd: tmp, repoRoot: tmp }),
        'resnet-tiny',
        context(),
      );
      const published = await loadLayersModel(path.join(result.dir, TFJS_DIR));
      const reference = buildBackbone('resnet-tiny', { inputSize: 32, numClasses: NUM_CLASSES, seed: 1 });
      await importWeightsFile(reference, weights, { headLayer: 'fc' });
      const kernel = (m: tf.LayersModel) => m.getLayer('layer1.0.conv1').getWeights()[0].data();
      expect(await kernel(published)).toEqual(await kernel(reference));
      const entry = await readVersion(path.join(tmp, 'pretrained-models'), 'resnet-tiny', result.version);
      expect(entry.status === 'ready' && entry.metadata.training?.pretrained).toMatch(
        /^resnet-tiny\.pth \(sha256:[0-9a-f]{16}\)$/,
      );
      published.dispose();
      reference.dispose();
    },
    TIMEOUT_MS,
  );
});

describe('trainOne calibration at publish', () => {
  /** Trains on `data` and returns the published version's metadata and folder. */
  async function publishFrom(data: string, tag: string, extra: string[] = []) {
    const argv = [
      '--backbone=resnet-tiny',
      `--data=${data}`,
      '--input-size=32',
      '--epochs=2',
      '--batch-size=16',
      `--registry=${path.join(tmp, `${tag}-models`)}`,
      `--runs-dir=${path.join(tmp, `${tag}-runs`)}`,
      ...extra,
    ];
    const result = await trainOne(
      parseTrainArgs(argv, { cwd: tmp, repoRoot: tmp }),
      'resnet-tiny',
      context(),
    );
    const entry = await readVersion(path.join(tmp, `${tag}-models`), 'resnet-tiny', result.version);
    if (entry.status !== 'ready') throw new Error(`published version is ${entry.status}`);
    return { metadata: entry.metadata as ModelMetadata, dir: entry.dir };
  }

  it(
    'fits the temperature on the validation split only: another test split changes nothing in it',
    async () => {
      // Same training images (seed 5), other test images (seed 99).
      const otherTest = path.join(tmp, 'other-test-data');
      await writeClassFolders(
        path.join(otherTest, 'Training', 'Training'),
        KAGGLE_FOLDERS,
        12,
        { seed: 5, format: 'png' },
        'train',
      );
      await writeClassFolders(
        path.join(otherTest, 'Testing', 'Testing'),
        KAGGLE_FOLDERS,
        4,
        { seed: 99, format: 'png' },
        'test',
      );
      const a = await publishFrom(path.join(tmp, 'data'), 'calibrated');
      const b = await publishFrom(otherTest, 'other-test');

      const calibration = a.metadata.calibration!;
      expect(calibration.method).toBe('temperature');
      expect(calibration.applied_to).toBe('logits');
      // 12 training images per class, 10% held out per class (at least one): 6 validation images.
      expect(calibration.fitted_on).toEqual({
        split: 'validation',
        split_seed: 42,
        fraction: 0.1,
        samples: 6,
      });
      expect(b.metadata.calibration!.temperature).toEqual(calibration.temperature);
      expect(b.metadata.calibration!.validation).toEqual(calibration.validation);
      expect(a.metadata.metrics?.calibration).toEqual(
        expect.objectContaining({ bins: 15, ece: expect.any(Number), nll: expect.any(Number) }),
      );
      expect(b.metadata.metrics?.confusion_matrix).not.toEqual(a.metadata.metrics?.confusion_matrix);

      const graph = JSON.parse(await readFile(path.join(a.dir, TFJS_DIR, 'model.json'), 'utf8')) as {
        modelTopology: { config: { layers: { class_name: string }[] } };
      };
      expect(graph.modelTopology.config.layers.map((l) => l.class_name)).toContain('LogitTemperature');
      const report = await readFile(path.join(a.dir, REPORT_DIR, 'report.md'), 'utf8');
      expect(report).toContain('## Calibration');
      expect(report).toContain('![reliability diagram](reliability.svg)');
      expect(a.metadata.artifacts.map((x) => x.path)).toEqual(
        expect.arrayContaining(['report/reliability.svg', 'report/reliability.png']),
      );
    },
    TIMEOUT_MS * 2,
  );

  it(
    'publishes the plain network with --no-calibrate, with its calibration measured',
    async () => {
      const { metadata } = await publishFrom(path.join(tmp, 'data'), 'uncalibrated', ['--no-calibrate']);
      expect(metadata.calibration).toBeUndefined();
      expect(metadata.metrics?.calibration?.per_class_ece).toHaveProperty('Fear');
    },
    TIMEOUT_MS,
  );
});
