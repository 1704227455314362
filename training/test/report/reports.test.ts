import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CLASSES } from '@fer/shared';
import { calibrationMetrics } from '../../src/metrics/calibration';
import { classificationMetrics } from '../../src/metrics/classification';
import { calibrationSection } from '../../src/report/calibration-section';
import {
  comparisonCharts,
  comparisonMarkdown,
  eceOf,
  medianEpochSeconds,
  type ComparisonRow,
} from '../../src/report/comparison';
import { confusionSpec } from '../../src/report/confusion-chart';
import { curvesSpec } from '../../src/report/curves-chart';
import { calibrationSeries, reliabilitySpec } from '../../src/report/reliability-chart';
import { renderSvg, writeChart } from '../../src/report/render-chart';
import { renderReport, type RunFacts } from '../../src/report/report-markdown';
import type { EpochRecord } from '../../src/report/epoch-log';

const history: EpochRecord[] = [1, 2, 3].map((epoch) => ({
  epoch,
  phase: epoch === 1 ? 'head' : 'full',
  lr: 1e-3 / epoch,
  train_loss: 2 - epoch * 0.4,
  train_accuracy: 0.2 * epoch,
  val_loss: 2.1 - epoch * 0.3,
  val_accuracy: [0.3, 0.55, 0.5][epoch - 1],
  val_macro_f1: 0.1 * epoch,
  images_per_s: 100,
  duration_s: 2,
  best: epoch <= 2,
}));
const truth = [0, 1, 2, 3, 4, 5, 0, 2, 2, 5];
const predicted = [0, 1, 2, 3, 4, 4, 1, 2, 2, 5];
const metrics = classificationMetrics(truth, predicted, CLASSES, 'Testing');

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-report-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('charts', () => {
  it('render the curves with both splits and mark the best epoch', async () => {
    const svg = await renderSvg(curvesSpec(history, 'resnet-tiny'));
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('validation');
    expect(svg).toContain('best epoch (2)');
  });

  it('render the confusion matrix with every class and count', async () => {
    const svg = await renderSvg(confusionSpec(metrics, 'resnet-tiny on Testing'));
    for (const c of CLASSES) expect(svg).toContain(`>${c}<`);
    expect(svg).toContain('10 images, accuracy 80.0%');
  });

  it('render the reliability diagram with each series and its ECE', async () => {
    const probabilities = truth.flatMap((t, i) => CLASSES.map((_, c) => (c === predicted[i] ? 0.75 : 0.05)));
    const sharper = probabilities.map((p) => (p === 0.75 ? 0.95 : 0.01));
    const series = calibrationSeries(truth, sharper, probabilities, CLASSES.length);
    expect(series.map((s) => s.label)).toEqual(['without temperature', 'published (with temperature)']);
    expect(series[0].ece).toBeCloseTo(0.05, 12); // every answer at 75%, 80% right
    const svg = await renderSvg(reliabilitySpec(series, 'resnet-tiny on Testing'));
    expect(svg).toContain('without temperature (ECE 5.0%)');
    expect(svg).toContain('published (with temperature) (ECE 15.0%)');
    expect(svg).toContain('15 equal-width confidence bins');
  });

  it('are written as SVG and PNG', async () => {
    const files = await writeChart(curvesSpec(history, 'x'), tmp, 'curves');
    expect(files).toEqual(['curves.svg', 'curves.png']);
    const png = await readFile(path.join(tmp, 'curves.png'));
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
  });
});

describe('report.md', () => {
  const facts: RunFacts = {
    name: 'resnet-tiny',
    version: null,
    backbone: 'resnet-tiny',
    family: 'resnet',
    parameters: 20250,
    createdAt: '2025-01-01T00:00:00.000Z',
    codeRevision: 'abc',
    command: 'npm run train -- --backbone resnet-tiny',
    backend: 'wasm',
    inputSize: 32,
    dataset: {
      format: 'kaggle',
      root: '/data',
      fingerprint: 'sha256:00',
      counts: { Training: { Angry: 5 }, Testing: { Angry: 2 } },
      used: { train: { Angry: 4 }, validation: { Angry: 1 }, test: { Angry: 2 } },
      skipped: { train: 1, validation: 0, test: 0 },
      ignored: { Training: { Disgust: 3 } },
    },
    training: {
      epochsPlanned: 5,
      epochsRun: 3,
      bestEpoch: 2,
      stoppedEarly: true,
      batchSize: 16,
      optimizer: { name: 'adamw' },
      schedule: { name: 'one-cycle' },
      augmentation: null,
      classBalance: 'weighted-loss',
      labelSmoothing: 0,
      freezeEpochs: 1,
      patience: 1,
      seed: 1,
      pretrained: null,
      durationS: 75,
      imagesPerS: 99.5,
    },
    history,
    test: metrics,
    onnx: { bytes: 90_000, opset: 17, latencyMsPerImage: 0.5 },
    charts: { curves: 'curves.svg', confusion: 'confusion.svg' },
  };

  it('states the results, the data, the training settings and every epoch', () => {
    const md = renderReport(facts);
    expect(md).toMatch(/^# resnet-tiny, trained on kaggle data/);
    expect(md).toContain('Test accuracy **80.0%**');
    expect(md).toContain('best epoch 2 of 3');
    expect(md).toContain('Left out on purpose: 3 Disgust images in Training.');
    expect(md).toContain('Unreadable images skipped: 1 in train.');
    expect(md).toContain('3 of 5 (early stop, patience 1)');
    expect(md).toContain('| **2** | full |');
    expect(md).toContain('![confusion matrix](confusion.svg)');
    expect(md).toContain('1 min 15 s (99.5 images/s)');
    expect(md).not.toMatch(/\n\n\n/);
  });
});

describe('the comparison', () => {
  const row = (name: string, family: string, accuracy: number, ece: number | null): ComparisonRow => ({
    name,
    version: 1,
    backbone: name,
    family,
    inputSize: 96,
    parameters: 1_000_000,
    multiplyAdds: 24_883_968,
    accuracy,
    macroF1: accuracy - 0.05,
    perClassF1: Object.fromEntries(CLASSES.map((c, i) => [c, i / 10])),
    confusion: metrics.confusion_matrix,
    testSamples: 3_000,
    ece,
    trainedOn: 'wasm',
    trainingSeconds: 600,
    secondsPerEpoch: 30,
    trainImagesPerS: 50,
    modelBytes: 4_000_000,
    latencyMsPerImage: 3,
    cropsPerS: { batch1: 310.4, batch32: 1_204.6 },
    epochsRun: 20,
    bestEpoch: 17,
    history,
  });
  const rows = [row('resnet-small', 'resnet', 0.61, null), row('densenet-small', 'densenet', 0.63, 0.0412)];
  const context = {
    dataset: 'kaggle at /d',
    fingerprint: 'sha256:1',
    testSplit: 'Testing',
    createdAt: 'now',
    command: null,
    machine: { cpu: 'Some CPU', cores: 2, loadAverage: [1.5, 1.25, 1] },
  };

  it('names the best model, covers quality and cost, and cites the original study', () => {
    const md = comparisonMarkdown(rows, context);
    expect(md).toContain('Best test accuracy: **densenet-small v1** (63.0%)');
    expect(md).toContain('| resnet-small v1 | resnet | 61.0% | 56.0% | - | 3,000 | 17 / 20 |');
    expect(md).toContain('| densenet-small v1 | densenet | 63.0% | 58.0% | 4.1% | 3,000 | 17 / 20 |');
    expect(md).toContain(
      '| resnet-small v1 | 1,000,000 | 24.9 M | 96 px | 10 min 0 s | 30 s | 50.0 | 4.0 MB | 310 | 1205 |',
    );
    expect(md).toContain('measured on Some CPU (2 cores, load average 1.5 1.3 1.0 at the time)');
    expect(md).toContain('| resnet152 | 53.4% |');
    for (const file of ['quality', 'per-class', 'curves', 'confusion-1', 'confusion-2', 'cost'])
      expect(md).toContain(`(comparison-${file}.svg)`);
    expect(md).not.toMatch(/\n\n\n/);
    expect(comparisonMarkdown(rows, context, { headingLevel: 2 })).toMatch(/^## Backbone comparison\n/);
  });

  it('renders every chart with both models', async () => {
    const charts = comparisonCharts(rows, 'Testing');
    expect(charts.map((c) => c.file)).toEqual([
      'comparison-quality',
      'comparison-per-class',
      'comparison-curves',
      'comparison-confusion-1',
      'comparison-confusion-2',
      'comparison-cost',
    ]);
    for (const chart of charts) {
      const svg = await renderSvg(chart.spec);
      expect(svg).toContain(chart.file === 'comparison-confusion-1' ? 'resnet-small v1' : 'v1');
      if (!chart.file.startsWith('comparison-confusion')) expect(svg).toContain('densenet-small v1');
    }
  });

  it('reads ECE only where calibration measured it, and the median epoch time', () => {
    expect(eceOf(metrics)).toBeNull();
    expect(eceOf({ ...metrics, calibration: { ece: 0.02 } } as typeof metrics)).toBe(0.02);
    expect(medianEpochSeconds(history)).toBe(2);
    expect(medianEpochSeconds([])).toBeNull();
  });
});

describe('the calibration section of report.md', () => {
  const probabilities = truth.flatMap((t, i) => CLASSES.map((_, c) => (c === predicted[i] ? 0.75 : 0.05)));
  const test = calibrationMetrics(probabilities, truth, CLASSES);
  const score = { ece: 0.07, nll: 0.9, brier: 0.45 };

  it('states the temperature, what it was fitted on, before and after, and each class', () => {
    const text = calibrationSection({
      info: {
        method: 'temperature',
        applied_to: 'probabilities',
        temperature: Object.fromEntries(CLASSES.map((c, i) => [c, 0.7 + i / 100])),
        fitted_on: { split: 'validation', split_seed: 42, fraction: 0.1, samples: 2829 },
        validation: { before: score, after: { ece: 0.03, nll: 0.86, brier: 0.43 } },
        selection: {
          folds: 5,
          scalar_nll: 0.869,
          per_class_nll: 0.858,
          scalar_ece: 0.038,
          per_class_ece: 0.029,
        },
      },
      validation: null,
      test: { before: { ...test, ece: 0.052 }, after: test },
      chart: 'reliability.svg',
    });
    expect(text).toContain('power and renormalise');
    expect(text).toContain('T = Angry 0.700, Fear 0.710');
    expect(text).toContain('on the 2829 validation images (seed 42, fraction 0.1), never on the test split');
    expect(text).toContain('One temperature per class was kept');
    expect(text).toMatch(/\| test, before \| 5\.2% \|/);
    expect(text).toMatch(/\| test, after \(published\) \| 5\.0% \|/);
    expect(text).toContain('![reliability diagram](reliability.svg)');
  });

  it('states the bias and the three candidates when one temperature plus a bias was kept', () => {
    const bias = [-0.164, -0.059, 0.608, -0.04, 0.071, -0.416];
    const text = calibrationSection({
      info: {
        method: 'temperature',
        applied_to: 'logits',
        temperature: 0.81,
        bias: Object.fromEntries(CLASSES.map((c, i) => [c, bias[i]])),
        fitted_on: { split: 'validation', split_seed: 42, fraction: 0.1, samples: 2829 },
        validation: { before: score, after: { ece: 0.02, nll: 0.85, brier: 0.42 } },
        selection: {
          folds: 5,
          scalar_nll: 0.869,
          per_class_nll: 0.858,
          scalar_bias_nll: 0.852,
          scalar_ece: 0.038,
          per_class_ece: 0.029,
          scalar_bias_ece: 0.019,
        },
      },
      validation: null,
      test: { before: null, after: test },
      chart: 'reliability.svg',
    });
    expect(text).toContain('the logits by a temperature before the softmax, then adds a per-class bias');
    expect(text).toContain('T = 0.810, bias Angry -0.164, Fear -0.059, Happy +0.608');
    expect(text).toContain('One temperature plus a per-class bias was kept by 5-fold cross-validated NLL');
    expect(text).toContain('one plus a bias 0.8520; out-of-fold ECE 3.8%, 2.9%, 1.9%');
  });

  it('says so for a version published without a temperature', () => {
    const text = calibrationSection({
      info: null,
      validation: null,
      test: { before: null, after: test },
      chart: 'r.svg',
    });
    expect(text).toContain('without a temperature (`--no-calibrate`)');
    expect(text).toMatch(/\| test \(published\) \| 5\.0% \|/);
  });
});
