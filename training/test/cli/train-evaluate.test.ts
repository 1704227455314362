/**
 * End to end through the root scripts, as a user runs them: `npm run train` on a dataset this test
 * draws (Kaggle layout, one unreadable file), then `npm run evaluate` on the published version.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CLASSES, readVersion, type ModelMetrics } from '@fer/shared';
import type { EpochRecord } from '../../src/report/epoch-log';
import type { EvaluationResult } from '../../src/evaluate/evaluate-job';
import { writeKaggleDataset } from '../helpers/synthetic-dataset';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(__dirname, '../../..');
const TRAIN_TIMEOUT_MS = 120_000;
const CLI_TIMEOUT_MS = 60_000;
/** TF.js and onnxruntime agree to ~1e-6 in probability; allow one near-tie to flip. */
const MAX_FLIPPED_PREDICTIONS = 1;
const CHANCE = 1 / CLASSES.length;

let tmp: string;
let data: string;
let registry: string;

async function npm(
  args: string[],
  timeout: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('npm', ['run', '--silent', ...args], {
      cwd: REPO_ROOT,
      timeout,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-e2e-'));
  data = path.join(tmp, 'data');
  registry = path.join(tmp, 'models');
  await writeKaggleDataset(data, { train: 30, test: 10, seed: 21 });
  await writeFile(path.join(data, 'Training', 'Training', 'Happy', 'corrupt.jpg'), 'not an image');
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('npm run train, then npm run evaluate', () => {
  let trainOutput: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    trainOutput = await npm(
      [
        'train',
        '--',
        '--backbone',
        'resnet-tiny',
        '--data',
        data,
        '--input-size',
        '32',
        '--epochs',
        '5',
        '--batch-size',
        '16',
        '--lr',
        '3e-3',
        '--seed',
        '7',
        '--registry',
        registry,
        '--runs-dir',
        path.join(tmp, 'runs'),
        '--no-progress',
      ],
      TRAIN_TIMEOUT_MS,
    );
  }, TRAIN_TIMEOUT_MS);

  it('trains above chance and publishes a valid version with ONNX, tfjs and report files', async () => {
    expect(trainOutput.stderr).toMatch(/class\s+Training\s+Testing/); // counts printed before training
    expect(trainOutput.code).toBe(0);
    const logLines = trainOutput.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; backend?: string });
    expect(logLines.find((l) => l.msg === 'TF.js backend selected')?.backend).toMatch(
      /^(tensorflow|wasm|cpu)$/,
    );

    const entry = await readVersion(registry, 'resnet-tiny', 1, { verify: 'sha256' });
    if (entry.status !== 'ready') throw new Error(`version invalid: ${entry.problems.join('; ')}`);
    const m = entry.metadata;
    expect(m.preprocessing.input_size).toBe(32);
    expect(m.architecture).toMatchObject({ family: 'resnet', config: 'resnet-tiny' });
    expect(m.metrics?.samples).toBe(60);
    expect(m.metrics?.split).toBe('Testing');
    expect(m.training?.dataset.format).toBe('kaggle');
    expect(m.training?.dataset.fingerprint).toMatch(/^sha256:/);
    expect(m.training?.dataset.counts.Training.Surprise).toBe(30);
    expect(m.training?.dataset.counts.Training.Happy).toBe(31); // the corrupt file is listed, then skipped
    expect(m.training?.seed).toBe(7);
    expect(m.training?.command).toMatch(/--backbone resnet-tiny/);
    expect(m.training?.lr_schedule).toMatchObject({ name: 'one-cycle', max_lr: 3e-3 });
    expect(m.export?.onnx_opset).toBeGreaterThanOrEqual(13);
    expect(m.code_revision === null || /^[0-9a-f]{40}/.test(m.code_revision)).toBe(true);
    const files = m.artifacts.map((a) => a.path);
    for (const f of [
      'model.onnx',
      'tfjs/model.json',
      'report/report.md',
      'report/epochs.jsonl',
      'report/metrics.json',
    ]) {
      expect(files).toContain(f);
    }
    for (const chart of ['curves', 'confusion', 'reliability']) {
      expect(await readFile(path.join(entry.dir, 'report', `${chart}.svg`), 'utf8')).toMatch(/^<svg/);
      const png = await readFile(path.join(entry.dir, 'report', `${chart}.png`));
      expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    }
    const history = (await readFile(path.join(entry.dir, 'report', 'epochs.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as EpochRecord);
    expect(history).toHaveLength(5);
    expect(Math.max(...history.map((r) => r.val_accuracy))).toBeGreaterThan(3 * CHANCE);
    expect(m.metrics!.accuracy).toBeGreaterThan(3 * CHANCE);
    const report = await readFile(path.join(entry.dir, 'report', 'report.md'), 'utf8');
    expect(report).toMatch(/Unreadable images skipped: 1 in train/);
    expect(report).toMatch(/!\[training curves\]\(curves\.svg\)/);
  });

  it('prints one line per epoch on stderr without a terminal (CI, | tee, docker logs)', () => {
    const epochLines = trainOutput.stderr.split('\n').filter((l) => l.startsWith('epoch '));
    expect(epochLines).toHaveLength(5);
    epochLines.forEach((line, i) =>
      expect(line).toMatch(
        new RegExp(
          `^epoch ${i + 1}/5  train loss \\d+\\.\\d{4} acc \\d+\\.\\d%  val acc \\d+\\.\\d%( \\(best\\))?  ` +
            `\\d+\\.\\d img/s  ${i < 4 ? 'ETA \\d+ (s|min \\d+ s)' : 'done'}$`,
        ),
      ),
    );
    // No bar redraws: nothing drawn with carriage returns or escape codes.
    expect(trainOutput.stderr).not.toContain('\r');
    expect(trainOutput.stderr).not.toContain('\u001b[');
  });

  it(
    'evaluates the published model through onnxruntime with the same test metrics',
    async () => {
      const out = path.join(tmp, 'evaluation.json');
      const result = await npm(
        ['evaluate', '--', '--model', 'resnet-tiny@1', '--data', data, '--registry', registry, '--out', out],
        CLI_TIMEOUT_MS,
      );
      expect(result.stderr).not.toMatch(/evaluation failed/);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/split Testing: 60 images, accuracy/);
      const evaluation = JSON.parse(await readFile(out, 'utf8')) as EvaluationResult;
      const entry = await readVersion(registry, 'resnet-tiny', 1);
      if (entry.status !== 'ready') throw new Error('version invalid');
      const trained = entry.metadata.metrics as ModelMetrics;
      expect(evaluation.metrics.samples).toBe(trained.samples);
      const flipped = evaluation.metrics.confusion_matrix
        .flat()
        .reduce((sum, v, i) => sum + Math.abs(v - trained.confusion_matrix.flat()[i]), 0);
      expect(flipped).toBeLessThanOrEqual(2 * MAX_FLIPPED_PREDICTIONS);
      expect(Math.abs(evaluation.metrics.accuracy - trained.accuracy)).toBeLessThanOrEqual(
        MAX_FLIPPED_PREDICTIONS / trained.samples,
      );
      // The calibration of the same probabilities, and the reliability diagram beside the JSON.
      expect(result.stdout).toMatch(/calibration \(15 bins\): ECE [\d.]+%, NLL [\d.]+, Brier [\d.]+/);
      expect(Math.abs(evaluation.metrics.calibration!.nll - trained.calibration!.nll)).toBeLessThan(1e-3);
      expect(evaluation.reliability).toHaveLength(15);
      expect(evaluation.reliability.reduce((sum, b) => sum + b.count, 0)).toBe(trained.samples);
      expect(await readFile(path.join(tmp, 'evaluation.reliability.svg'), 'utf8')).toMatch(/^<svg/);
    },
    CLI_TIMEOUT_MS,
  );

  it(
    'refuses, before training, a version of a name whose versions read other input, suggesting --name',
    async () => {
      const result = await npm(
        [
          'train',
          '--',
          ...['--backbone', 'resnet-tiny', '--data', path.join(tmp, 'no-such-data'), '--input-size', '40'],
          ...['--registry', registry, '--runs-dir', path.join(tmp, 'runs'), '--no-progress'],
        ],
        CLI_TIMEOUT_MS,
      );
      expect(result.code).toBe(1);
      // The refusal comes before the dataset is even looked at.
      expect(result.stderr.trim()).toMatch(
        /^cannot publish a new version of "resnet-tiny": .*input_size: 32 -> 40.*--name resnet-tiny-40px$/,
      );
      expect(result.stdout).not.toMatch(/"stack"/);
    },
    CLI_TIMEOUT_MS,
  );

  it(
    'says where it looked for a model that is not there, and where training publishes',
    async () => {
      const result = await npm(['evaluate', '--', '--model', 'nope@1', '--data', data], CLI_TIMEOUT_MS);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/Model "nope" has no version 1|No model named "nope"/);
      expect(result.stderr).toContain(`(looked in ${path.join(REPO_ROOT, 'models')};`);
      expect(result.stderr).toContain(path.join(REPO_ROOT, 'artifacts', 'registry'));
    },
    CLI_TIMEOUT_MS,
  );

  it(
    'says in one line that a --data path does not exist, with no stack trace in the log',
    async () => {
      const missing = path.join(tmp, 'no-such-data');
      const result = await npm(
        [
          'train',
          '--',
          '--backbone',
          'resnet-tiny',
          '--data',
          missing,
          '--input-size',
          '32',
          '--registry',
          registry,
          '--no-progress',
        ],
        CLI_TIMEOUT_MS,
      );
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toBe(`No dataset at ${missing}: the path does not exist`);
      const failure = result.stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.msg === 'training failed');
      expect(failure).toMatchObject({ code: 'DATASET_NOT_FOUND', reason: expect.stringContaining(missing) });
      expect(result.stdout).not.toMatch(/"stack"|\bat .*\.ts:\d+/);
    },
    CLI_TIMEOUT_MS,
  );

  it(
    'fails with a clear message on an empty dataset folder',
    async () => {
      const empty = await mkdtemp(path.join(tmp, 'empty-'));
      const result = await npm(
        ['train', '--', '--backbone', 'resnet-tiny', '--data', empty, '--no-progress'],
        CLI_TIMEOUT_MS,
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/is empty; expected the Kaggle layout/);
      const usage = await npm(['train', '--', '--data', empty], CLI_TIMEOUT_MS);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toMatch(/--backbone is required/);
    },
    CLI_TIMEOUT_MS,
  );
});
