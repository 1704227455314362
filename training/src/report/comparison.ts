/**
 * The comparative study (`--backbone a,b`): tables and charts that put the trained backbones side
 * by side on quality (test accuracy, macro-F1, per-class F1, confusion matrices, calibration when
 * measured, training curves) and cost (parameters, multiply-adds, training time per epoch, ONNX
 * Runtime crops/s at batch 1 and 32, model size). Pure functions of the rows: the train job and
 * the docs page (study-page.ts) render the same tables from comparison.json.
 */
import type * as vl from 'vega-lite';
import type { ModelMetrics } from '@fer/shared';
import { pct } from '../metrics/format-metrics';
import type { EpochRecord } from './epoch-log';
import { confusionSpec } from './confusion-chart';
import { formatDuration } from './format-duration';

/** The batch sizes the ONNX Runtime throughput is measured at. */
export const THROUGHPUT_BATCH_SIZES = [1, 32] as const;

export interface ComparisonRow {
  name: string;
  version: number;
  backbone: string;
  /** 'resnet' or 'densenet'. */
  family: string;
  inputSize: number;
  parameters: number;
  /** Multiply-accumulates of one image at `inputSize` (convolutions and dense layers). */
  multiplyAdds: number | null;
  accuracy: number;
  macroF1: number;
  perClassF1: Record<string, number>;
  /** confusion[true][predicted], classes in `perClassF1` order. */
  confusion: number[][];
  testSamples: number;
  /** Expected calibration error on the test split, when the version was calibrated. */
  ece: number | null;
  /** The TF.js backend it was trained on. */
  trainedOn: string | null;
  trainingSeconds: number;
  /** Median wall time of one epoch (training and validation) while it trained. */
  secondsPerEpoch: number | null;
  trainImagesPerS: number;
  /** model.onnx */
  modelBytes: number;
  /** ONNX, CPU, batch 1, median of single calls (measured at publishing). */
  latencyMsPerImage: number | null;
  /** ONNX Runtime face crops per second at batch 1 and 32, measured when the comparison was written. */
  cropsPerS: { batch1: number; batch32: number } | null;
  epochsRun: number;
  bestEpoch: number | null;
  history: EpochRecord[];
}

export interface ComparisonContext {
  dataset: string;
  fingerprint: string;
  testSplit: string;
  createdAt: string;
  command: string | null;
  /** The CPU the throughput was measured on, and how busy it was. */
  machine?: { cpu: string; cores: number; loadAverage: number[] } | null;
}

/** comparison.json: everything the tables and charts are made from. */
export interface ComparisonFile {
  context: ComparisonContext;
  rows: ComparisonRow[];
}

/** What the original PyTorch notebooks reported, for context (they validated on the test split). */
export const ORIGINAL_STUDY: readonly { backbone: string; family: string; accuracy: number; note: string }[] =
  [
    { backbone: 'resnet152', family: 'resnet', accuracy: 0.534, note: 'final epoch' },
    {
      backbone: 'densenet161',
      family: 'densenet',
      accuracy: 0.325,
      note: 'final epoch (0.437 at its best epoch)',
    },
  ];

/**
 * The expected calibration error a version's metrics carry, when calibration measured it.
 *
 * @example eceOf(metadata.metrics) // 0.031, or null for an uncalibrated version
 */
export function eceOf(metrics: ModelMetrics): number | null {
  const calibration = (metrics as { calibration?: { ece?: unknown } | null }).calibration;
  return typeof calibration?.ece === 'number' ? calibration.ece : null;
}

/**
 * The median epoch duration of a run.
 *
 * @example medianEpochSeconds(history) // 312.5
 */
export function medianEpochSeconds(history: readonly EpochRecord[]): number | null {
  const times = history.map((r) => r.duration_s).sort((a, b) => a - b);
  if (times.length === 0) return null;
  const mid = times.length >> 1;
  return times.length % 2 === 1 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
}

function row(cells: (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}

const label = (r: ComparisonRow) => `${r.name} v${r.version}`;
const millions = (n: number) => `${(n / 1e6).toFixed(n < 1e7 ? 2 : 1)} M`;
const orDash = <T>(value: T | null, show: (v: T) => string) => (value === null ? '-' : show(value));

/** A chart of the comparison: its file name (without extension) and what it shows. */
export interface ComparisonChart {
  file: string;
  alt: string;
  spec: vl.TopLevelSpec;
}

/**
 * Every chart of the comparison, in the order the page shows them.
 *
 * @example for (const c of comparisonCharts(rows, 'Testing')) await writeChart(c.spec, dir, c.file);
 */
export function comparisonCharts(rows: readonly ComparisonRow[], testSplit: string): ComparisonChart[] {
  return [
    { file: 'comparison-quality', alt: 'test accuracy and macro-F1', spec: qualitySpec(rows) },
    { file: 'comparison-per-class', alt: 'F1 per class', spec: perClassSpec(rows) },
    { file: 'comparison-curves', alt: 'training curves', spec: curvesComparisonSpec(rows) },
    ...rows.map((r, i) => ({
      file: `comparison-confusion-${i + 1}`,
      alt: `confusion matrix of ${label(r)}`,
      spec: confusionSpec(
        {
          accuracy: r.accuracy,
          samples: r.testSamples,
          per_class: r.perClassF1,
          confusion_matrix: r.confusion,
        },
        `${label(r)} on ${testSplit}`,
      ),
    })),
    { file: 'comparison-cost', alt: 'cost', spec: costSpec(rows) },
  ];
}

/**
 * comparison.md: the side-by-side tables, the charts and the original study for reference.
 * `headingLevel` 2 nests it under a page's own title (the docs page).
 *
 * @example await writeFile('comparison.md', comparisonMarkdown(rows, context));
 */
export function comparisonMarkdown(
  rows: readonly ComparisonRow[],
  context: ComparisonContext,
  options: { headingLevel?: 1 | 2; originalStudy?: boolean } = {},
): string {
  const h = (level: number) => '#'.repeat(level + (options.headingLevel ?? 1) - 1);
  const classes = [...new Set(rows.flatMap((r) => Object.keys(r.perClassF1)))];
  const best = [...rows].sort((a, b) => b.accuracy - a.accuracy)[0];
  const charts = comparisonCharts(rows, context.testSplit);
  const image = (file: string) => {
    const chart = charts.find((c) => c.file === file);
    return chart ? `![${chart.alt}](${chart.file}.svg)` : '';
  };
  const machine = context.machine;
  const lines = [
    `${h(1)} Backbone comparison`,
    '',
    `Dataset ${context.dataset} (fingerprint \`${context.fingerprint}\`), test split "${context.testSplit}", ${context.createdAt}.`,
    context.command ? `Command: \`${context.command}\`` : '',
    '',
    best ? `Best test accuracy: **${label(best)}** (${pct(best.accuracy)}).` : '',
    '',
    `${h(2)} Quality on the test split`,
    '',
    row(['model', 'family', 'test accuracy', 'macro-F1', 'ECE', 'test images', 'best epoch']),
    row(['---', '---', '---:', '---:', '---:', '---:', '---:']),
    ...rows.map((r) =>
      row([
        label(r),
        r.family,
        pct(r.accuracy),
        pct(r.macroF1),
        orDash(r.ece, pct),
        r.testSamples.toLocaleString('en-US'),
        `${r.bestEpoch ?? '-'} / ${r.epochsRun}`,
      ]),
    ),
    '',
    'ECE: expected calibration error of the probabilities (lower is better; "-" when the version was not calibrated).',
    '',
    `${h(2)} Cost`,
    '',
    row([
      'model',
      'parameters',
      'multiply-adds / image',
      'input',
      'training time',
      'time / epoch',
      'train images/s',
      'ONNX size',
      'crops/s, batch 1',
      'crops/s, batch 32',
    ]),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
    ...rows.map((r) =>
      row([
        label(r),
        r.parameters.toLocaleString('en-US'),
        orDash(r.multiplyAdds, millions),
        `${r.inputSize} px`,
        formatDuration(r.trainingSeconds),
        orDash(r.secondsPerEpoch, formatDuration),
        r.trainImagesPerS.toFixed(1),
        `${(r.modelBytes / 1e6).toFixed(1)} MB`,
        orDash(r.cropsPerS, (c) => c.batch1.toFixed(0)),
        orDash(r.cropsPerS, (c) => c.batch32.toFixed(0)),
      ]),
    ),
    '',
    `Training ran on the TF.js ${[...new Set(rows.map((r) => r.trainedOn ?? 'unknown'))].join(' / ')} backend; ` +
      'time per epoch is the median epoch (training and validation). Crops/s: ONNX Runtime on the CPU, ' +
      'face crops already preprocessed' +
      (machine
        ? `, measured on ${machine.cpu} (${machine.cores} cores, load average ${machine.loadAverage.map((l) => l.toFixed(1)).join(' ')} at the time).`
        : '.'),
    '',
    `${h(2)} F1 per class`,
    '',
    row(['model', ...classes]),
    row(['---', ...classes.map(() => '---:')]),
    ...rows.map((r) => row([label(r), ...classes.map((c) => pct(r.perClassF1[c] ?? 0))])),
    '',
    image('comparison-quality'),
    '',
    image('comparison-per-class'),
    '',
    `${h(2)} Training curves`,
    '',
    image('comparison-curves'),
    '',
    `${h(2)} Confusion matrices`,
    '',
    'Rows: true class; columns: prediction; colour: share of the row.',
    '',
    ...charts.filter((c) => c.file.startsWith('comparison-confusion-')).flatMap((c) => [image(c.file), '']),
    image('comparison-cost'),
    '',
    ...(options.originalStudy === false
      ? []
      : [
          `${h(2)} The original study, for reference`,
          '',
          'The PyTorch notebooks this project replaces fine-tuned ResNet152 and DenseNet161 and reported the accuracies below',
          'on the same test split; they used the test split for validation (so their numbers are optimistic) and CIFAR',
          'normalization statistics.',
          '',
          row(['backbone', 'reported test accuracy', 'note']),
          row(['---', '---:', '---']),
          ...ORIGINAL_STUDY.map((o) => row([o.backbone, pct(o.accuracy), o.note])),
          '',
        ]),
  ];
  return lines.filter((line, i, all) => !(line === '' && all[i - 1] === '')).join('\n');
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** Accuracy and macro-F1 as grouped bars. */
export function qualitySpec(rows: readonly ComparisonRow[]): vl.TopLevelSpec {
  const values = rows.flatMap((r) => [
    { model: label(r), metric: 'accuracy', value: r.accuracy },
    { model: label(r), metric: 'macro-F1', value: r.macroF1 },
  ]);
  return {
    $schema: SCHEMA,
    title: 'Test accuracy and macro-F1',
    data: { values },
    mark: 'bar',
    width: { step: 40 },
    height: 220,
    encoding: {
      column: { field: 'metric', type: 'nominal', title: null },
      x: { field: 'model', type: 'nominal', title: null, axis: { labelAngle: -30 } },
      y: {
        field: 'value',
        type: 'quantitative',
        scale: { domain: [0, 1] },
        axis: { format: '%' },
        title: null,
      },
      color: { field: 'model', type: 'nominal', legend: null },
    },
    config: { background: 'white' },
  };
}

/** F1 of every class, one bar per model. */
export function perClassSpec(rows: readonly ComparisonRow[]): vl.TopLevelSpec {
  const values = rows.flatMap((r) =>
    Object.entries(r.perClassF1).map(([cls, f1]) => ({ model: label(r), class: cls, f1 })),
  );
  return {
    $schema: SCHEMA,
    title: 'F1 per class on the test split',
    data: { values },
    mark: 'bar',
    width: 420,
    height: 220,
    encoding: {
      x: { field: 'class', type: 'nominal', title: null },
      xOffset: { field: 'model', type: 'nominal' },
      y: { field: 'f1', type: 'quantitative', scale: { domain: [0, 1] }, title: 'F1' },
      color: { field: 'model', type: 'nominal', title: null },
    },
    config: { background: 'white' },
  };
}

/** Validation accuracy and training loss per epoch, one line per model. */
export function curvesComparisonSpec(rows: readonly ComparisonRow[]): vl.TopLevelSpec {
  const values = rows.flatMap((r) =>
    r.history.flatMap((e) => [
      { model: label(r), epoch: e.epoch, measure: 'validation accuracy', value: e.val_accuracy },
      { model: label(r), epoch: e.epoch, measure: 'training loss', value: e.train_loss },
    ]),
  );
  const panel = (measure: string) => ({
    width: 320,
    height: 220,
    title: measure,
    transform: [{ filter: { field: 'measure', equal: measure } }],
    mark: { type: 'line' as const, point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative' as const, axis: { tickMinStep: 1, format: 'd' } },
      y: {
        field: 'value',
        type: 'quantitative' as const,
        title: null,
        ...(measure === 'validation accuracy' ? { scale: { zero: false }, axis: { format: '%' } } : {}),
      },
      color: { field: 'model', type: 'nominal' as const, title: null },
    },
  });
  return {
    $schema: SCHEMA,
    title: 'Training curves',
    data: { values },
    hconcat: [panel('validation accuracy'), panel('training loss')],
    config: { background: 'white' },
  };
}

/** Cost side by side, one small panel per measure. */
export function costSpec(rows: readonly ComparisonRow[]): vl.TopLevelSpec {
  const measures: [string, (r: ComparisonRow) => number | null][] = [
    ['parameters (millions)', (r) => r.parameters / 1e6],
    ['multiply-adds / image (millions)', (r) => (r.multiplyAdds === null ? null : r.multiplyAdds / 1e6)],
    ['time / epoch (min)', (r) => (r.secondsPerEpoch === null ? null : r.secondsPerEpoch / 60)],
    ['ONNX size (MB)', (r) => r.modelBytes / 1e6],
    ['crops/s, batch 1', (r) => r.cropsPerS?.batch1 ?? null],
    ['crops/s, batch 32', (r) => r.cropsPerS?.batch32 ?? null],
  ];
  const values = rows.flatMap((r) =>
    measures
      .map(([measure, f]) => ({ model: label(r), measure, value: f(r) }))
      .filter((v) => v.value !== null),
  );
  return {
    $schema: SCHEMA,
    title: 'Cost',
    data: { values },
    mark: 'bar',
    width: { step: 24 },
    height: 160,
    encoding: {
      column: { field: 'measure', type: 'nominal', title: null, sort: measures.map(([m]) => m) },
      x: { field: 'model', type: 'nominal', title: null, axis: { labelAngle: -30 } },
      y: { field: 'value', type: 'quantitative', title: null },
      color: { field: 'model', type: 'nominal', legend: null },
    },
    resolve: { scale: { y: 'independent' } },
    config: { background: 'white' },
  };
}
