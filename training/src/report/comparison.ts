/**
 * The comparative study (`--backbone all`): one table and three charts that put the trained
 * backbones side by side on quality (accuracy, macro-F1, per-class F1) and cost (parameters,
 * training time, throughput, model size, inference latency).
 */
import type * as vl from 'vega-lite';
import { pct } from '../metrics/format-metrics';
import { formatDuration } from './format-duration';

export interface ComparisonRow {
  name: string;
  version: number;
  backbone: string;
  parameters: number;
  accuracy: number;
  macroF1: number;
  perClassF1: Record<string, number>;
  trainingSeconds: number;
  trainImagesPerS: number;
  modelBytes: number;
  /** ONNX, CPU, batch 1. */
  latencyMsPerImage: number | null;
  epochsRun: number;
  bestEpoch: number | null;
}

export interface ComparisonContext {
  dataset: string;
  fingerprint: string;
  testSplit: string;
  createdAt: string;
  command: string | null;
}

/** What the original PyTorch notebooks reported, for context (they validated on the test split). */
export const ORIGINAL_STUDY: readonly { backbone: string; accuracy: number; note: string }[] = [
  { backbone: 'resnet152', accuracy: 0.534, note: 'final epoch' },
  { backbone: 'densenet161', accuracy: 0.325, note: 'final epoch (0.437 at its best epoch)' },
];

function row(cells: (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}

/**
 * comparison.md: the side-by-side table, per-class F1 and the original study for reference.
 *
 * @example await writeFile('comparison.md', comparisonMarkdown(rows, context));
 */
export function comparisonMarkdown(rows: readonly ComparisonRow[], context: ComparisonContext): string {
  const classes = [...new Set(rows.flatMap((r) => Object.keys(r.perClassF1)))];
  const best = [...rows].sort((a, b) => b.accuracy - a.accuracy)[0];
  const lines = [
    '# Backbone comparison',
    '',
    `Dataset ${context.dataset} (fingerprint \`${context.fingerprint}\`), test split "${context.testSplit}", ${context.createdAt}.`,
    context.command ? `Command: \`${context.command}\`` : '',
    '',
    best ? `Best test accuracy: **${best.name} v${best.version}** (${pct(best.accuracy)}).` : '',
    '',
    row([
      'model',
      'parameters',
      'test accuracy',
      'macro-F1',
      'best epoch',
      'training time',
      'train images/s',
      'ONNX size',
      'latency (ms/image)',
    ]),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
    ...rows.map((r) =>
      row([
        `${r.name} v${r.version}`,
        r.parameters.toLocaleString('en-US'),
        pct(r.accuracy),
        pct(r.macroF1),
        `${r.bestEpoch ?? '-'} / ${r.epochsRun}`,
        formatDuration(r.trainingSeconds),
        r.trainImagesPerS.toFixed(1),
        `${(r.modelBytes / 1e6).toFixed(1)} MB`,
        r.latencyMsPerImage === null ? '-' : r.latencyMsPerImage.toFixed(2),
      ]),
    ),
    '',
    '## F1 per class',
    '',
    row(['model', ...classes]),
    row(['---', ...classes.map(() => '---:')]),
    ...rows.map((r) => row([`${r.name} v${r.version}`, ...classes.map((c) => pct(r.perClassF1[c] ?? 0))])),
    '',
    '![quality](comparison-quality.svg)',
    '',
    '![per-class F1](comparison-per-class.svg)',
    '',
    '![cost](comparison-cost.svg)',
    '',
    '## The original study, for reference',
    '',
    'The PyTorch notebooks this project replaces fine-tuned the same backbones for 20 epochs and reported the accuracies below; they',
    'used the test split for validation (so their numbers are optimistic) and CIFAR normalization statistics.',
    '',
    row(['backbone', 'reported test accuracy', 'note']),
    row(['---', '---:', '---']),
    ...ORIGINAL_STUDY.map((o) => row([o.backbone, pct(o.accuracy), o.note])),
    '',
  ];
  return lines.filter((line, i, all) => !(line === '' && all[i - 1] === '')).join('\n');
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** Accuracy and macro-F1 as grouped bars. */
export function qualitySpec(rows: readonly ComparisonRow[]): vl.TopLevelSpec {
  const values = rows.flatMap((r) => [
    { model: `${r.name} v${r.version}`, metric: 'accuracy', value: r.accuracy },
    { model: `${r.name} v${r.version}`, metric: 'macro-F1', value: r.macroF1 },
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
    Object.entries(r.perClassF1).map(([cls, f1]) => ({ model: `${r.name} v${r.version}`, class: cls, f1 })),
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

/** Cost side by side: parameters, training time, throughput, size, latency (one small panel each). */
export function costSpec(rows: readonly ComparisonRow[]): vl.TopLevelSpec {
  const measures: [string, (r: ComparisonRow) => number | null][] = [
    ['parameters (millions)', (r) => r.parameters / 1e6],
    ['training time (min)', (r) => r.trainingSeconds / 60],
    ['training images/s', (r) => r.trainImagesPerS],
    ['ONNX size (MB)', (r) => r.modelBytes / 1e6],
    ['latency (ms/image)', (r) => r.latencyMsPerImage],
  ];
  const values = rows.flatMap((r) =>
    measures
      .map(([measure, f]) => ({ model: `${r.name} v${r.version}`, measure, value: f(r) }))
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
