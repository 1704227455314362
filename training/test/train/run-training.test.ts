// The study's own path, `--backbone a,b`, on tiny backbones: each backbone starts from its own
// file of a --pretrained folder (matched by torchvision-style names), both publish, and the
// comparison covers quality (per-class F1, confusion matrices, curves) and cost (parameters,
// multiply-adds, time per epoch, ONNX Runtime crops/s at batch 1 and 32, size).
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { NUM_CLASSES, readVersion } from '@fer/shared';
import { selectTrainingBackend } from '../../src/backend';
import { comparisonCharts, type ComparisonFile } from '../../src/report/comparison';
import { multiplyAddsOf } from '../../src/train/comparison-row';
import { silentLogger } from '../../src/train/logger';
import { runTraining, type TrainingOutcome } from '../../src/train/run-training';
import { parseTrainArgs } from '../../src/train/train-options';
import { writeKaggleDataset } from '../helpers/synthetic-dataset';

const FIXTURES = path.resolve(__dirname, '../fixtures/torchvision');
/** Two tiny backbones, two epochs each, plus 2 x 2 s of throughput measurement per model. */
const STUDY_TIMEOUT_MS = 180_000;
const EPOCHS = 2;
const CLI_TIMEOUT_MS = 60_000;
const REPO_ROOT = path.resolve(__dirname, '../../..');

let tmp: string;
let outcome: TrainingOutcome;
let comparison: ComparisonFile;

beforeAll(async () => {
  await selectTrainingBackend();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-study-'));
  await writeKaggleDataset(path.join(tmp, 'data'), { train: 10, test: 4, seed: 9, format: 'png' });
  const weights = path.join(tmp, 'weights');
  await mkdir(weights);
  await copyFile(path.join(FIXTURES, 'resnet-tiny.pth'), path.join(weights, 'resnet-tiny-394f9c45.pth'));
  await copyFile(
    path.join(FIXTURES, 'densenet-tiny-legacy.pth'),
    path.join(weights, 'densenet-tiny-8d451a50.pth'),
  );
  const options = parseTrainArgs(
    [
      '--backbone=resnet-tiny,densenet-tiny',
      `--data=${path.join(tmp, 'data')}`,
      '--input-size=32',
      `--epochs=${EPOCHS}`,
      '--batch-size=16',
      `--pretrained=${weights}`,
      `--registry=${path.join(tmp, 'models')}`,
      `--runs-dir=${path.join(tmp, 'runs')}`,
      `--comparison-dir=${path.join(tmp, 'comparison')}`,
    ],
    { cwd: tmp, repoRoot: tmp },
  );
  outcome = await runTraining(options, {
    log: silentLogger(),
    progress: { epoch: () => ({ update: () => undefined, stop: () => undefined }) },
    print: () => undefined,
    backend: 'test',
    command: 'npm run train -- (test)',
    codeRevision: null,
  });
  comparison = JSON.parse(await readFile(path.join(tmp, 'comparison', 'comparison.json'), 'utf8'));
}, STUDY_TIMEOUT_MS);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

test('each backbone starts from its own file of the folder and is published', async () => {
  expect(outcome.results.map((r) => [r.name, r.version])).toEqual([
    ['resnet-tiny', 1],
    ['densenet-tiny', 1],
  ]);
  const sources = [];
  for (const r of outcome.results) {
    const entry = await readVersion(path.join(tmp, 'models'), r.name, r.version);
    sources.push(entry.status === 'ready' ? entry.metadata.training?.pretrained : entry.problems);
  }
  expect(sources).toEqual([
    expect.stringMatching(/^resnet-tiny-394f9c45\.pth \(sha256:[0-9a-f]{16}\)$/),
    expect.stringMatching(/^densenet-tiny-8d451a50\.pth \(sha256:[0-9a-f]{16}\)$/),
  ]);
  expect(outcome.comparisonDir).toBe(path.join(tmp, 'comparison'));
});

test('the comparison covers quality and cost for both families', () => {
  const [resnet, densenet] = comparison.rows;
  expect([resnet.family, densenet.family]).toEqual(['resnet', 'densenet']);
  for (const row of comparison.rows) {
    expect(row.multiplyAdds).toBe(multiplyAddsOf(row.backbone, 32, NUM_CLASSES));
    expect(row.confusion.flat().reduce((a, b) => a + b, 0)).toBe(row.testSamples);
    expect(Object.keys(row.perClassF1)).toHaveLength(NUM_CLASSES);
    expect(row.history.map((e) => e.epoch)).toEqual([1, 2]);
    expect(row.secondsPerEpoch).toBeGreaterThan(0);
    expect(row.cropsPerS?.batch1).toBeGreaterThan(0);
    expect(row.cropsPerS?.batch32).toBeGreaterThan(0);
    expect(row.modelBytes).toBeGreaterThan(0);
    expect(row.ece === null || (row.ece >= 0 && row.ece <= 1)).toBe(true);
  }
  expect(comparison.context.machine?.cores).toBe(os.cpus().length);
});

test('comparison.md and every chart are written', async () => {
  const md = await readFile(path.join(tmp, 'comparison', 'comparison.md'), 'utf8');
  expect(md).toContain('| densenet-tiny v1 | densenet |');
  for (const chart of comparisonCharts(comparison.rows, comparison.context.testSplit)) {
    expect(md).toContain(`](${chart.file}.svg)`);
    for (const ext of ['svg', 'png'])
      expect((await stat(path.join(tmp, 'comparison', `${chart.file}.${ext}`))).size).toBeGreaterThan(0);
  }
});

test(
  'npm run study-page renders the finished comparison into a page with its charts and data',
  async () => {
    const out = path.join(tmp, 'docs-study');
    const { stdout } = await promisify(execFile)(
      'npm',
      [
        ...['run', '--silent', 'study-page', '--', path.join(tmp, 'comparison'), '--out', out],
        ...['--registry', path.join(tmp, 'models'), '--shipped', path.join(tmp, 'models')],
      ],
      { cwd: REPO_ROOT, timeout: CLI_TIMEOUT_MS },
    );
    expect(stdout).toContain(`wrote ${out}`);
    const charts = comparisonCharts(comparison.rows, comparison.context.testSplit).map(
      (c) => `${c.file}.svg`,
    );
    expect(await readdir(out)).toEqual(['README.md', ...charts, 'study.json'].sort());
    const page = await readFile(path.join(out, 'README.md'), 'utf8');
    expect(page).toMatch(/^# The study: ResNet vs DenseNet\n/);
    expect(page).toContain('## Backbone comparison');
    expect(page).toMatch(
      /\| ResNet \| resnet152, final epoch \| 53\.4% \| resnet-tiny v1 \| \d+\.\d% \| -?\d+\.\d points \|/,
    );
    expect(page).toMatch(
      /\| DenseNet \| densenet161, final epoch \(0\.437 at its best epoch\) \| 32\.5% \| densenet-tiny v1 \|/,
    );
    for (const chart of charts) expect(page).toContain(`](${chart})`);
    // Each study version named with the shipped version that has its model.onnx (here: itself).
    expect(page).toContain('| resnet-tiny v1 | resnet-tiny v1 |');
    expect(page).toContain('| densenet-tiny v1 | densenet-tiny v1 |');
    // Published without the paths of the machine that trained it.
    const data = await readFile(path.join(out, 'study.json'), 'utf8');
    expect(data).not.toContain(tmp);
    expect(JSON.parse(data).context.dataset).toBe('kaggle (data)');
    expect(JSON.parse(data).rows.map((r: { shipped: unknown }) => r.shipped)).toEqual([
      { name: 'resnet-tiny', version: 1 },
      { name: 'densenet-tiny', version: 1 },
    ]);
  },
  CLI_TIMEOUT_MS,
);
