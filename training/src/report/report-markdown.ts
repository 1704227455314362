/**
 * report.md of a published version: what was trained on what, how, the curves, and the test
 * results. A pure function of the run's facts, so the same run always gives the same text.
 */
import type { ModelMetrics } from '@fer/shared';
import type { EpochRecord } from './epoch-log';
import { pct } from '../metrics/format-metrics';
import { calibrationSection, type CalibrationFacts } from './calibration-section';
import { formatDuration } from './format-duration';
import { table } from './markdown-table';

export interface RunFacts {
  name: string;
  version: number | null;
  backbone: string;
  family: string;
  parameters: number;
  createdAt: string;
  codeRevision: string | null;
  command: string | null;
  backend: string;
  inputSize: number;
  dataset: {
    format: string;
    root: string;
    fingerprint: string;
    /** Per dataset split and class, as found on disk. */
    counts: Record<string, Record<string, number>>;
    /** Per role (train / validation / test) and class, as used by this run. */
    used: Record<string, Record<string, number>>;
    skipped: Record<string, number>;
    ignored: Record<string, Record<string, number>>;
  };
  training: {
    epochsPlanned: number;
    epochsRun: number;
    bestEpoch: number | null;
    stoppedEarly: boolean;
    batchSize: number;
    optimizer: Record<string, unknown>;
    schedule: Record<string, unknown>;
    augmentation: Record<string, unknown> | null;
    classBalance: string;
    labelSmoothing: number;
    freezeEpochs: number;
    patience: number;
    seed: number;
    pretrained: string | null;
    durationS: number;
    imagesPerS: number;
  };
  history: readonly EpochRecord[];
  test: ModelMetrics;
  onnx: { bytes: number; opset: number; latencyMsPerImage: number | null };
  charts: { curves: string; confusion: string };
  /** The temperature and the calibration figures; absent in runs from before they were measured. */
  calibration?: CalibrationFacts;
}

export { table } from './markdown-table';

/** Precision, recall, F1 and support of every class, as a markdown table. */
export function perClassTable(metrics: ModelMetrics): string {
  return table(
    ['class', 'precision', 'recall', 'F1', 'support'],
    Object.entries(metrics.per_class).map(([c, m]) => [
      c,
      pct(m.precision),
      pct(m.recall),
      pct(m.f1),
      m.support,
    ]),
  );
}

function countsTable(counts: Record<string, Record<string, number>>): string {
  const splits = Object.keys(counts);
  const classes = [...new Set(splits.flatMap((s) => Object.keys(counts[s])))];
  const rows = classes.map((c) => [c, ...splits.map((s) => counts[s][c] ?? 0)]);
  rows.push(['**total**', ...splits.map((s) => Object.values(counts[s]).reduce((a, b) => a + b, 0))]);
  return table(['class', ...splits], rows);
}

/**
 * The markdown text of report.md.
 *
 * @example await writeFile(path.join(reportDir, 'report.md'), renderReport(facts));
 */
export function renderReport(f: RunFacts): string {
  const t = f.training;
  const classes = Object.keys(f.test.per_class);
  const title = f.version === null ? f.name : `${f.name} v${f.version}`;
  const skipped = Object.entries(f.dataset.skipped).filter(([, n]) => n > 0);
  const ignored = Object.entries(f.dataset.ignored).flatMap(([split, byLabel]) =>
    Object.entries(byLabel).map(([label, n]) => `${n} ${label} images in ${split}`),
  );
  return [
    `# ${title}${f.name === f.backbone ? '' : ` (${f.backbone})`}, trained on ${f.dataset.format} data`,
    '',
    `Test accuracy **${pct(f.test.accuracy)}**, macro-F1 **${pct(f.test.macro_f1)}** on ${f.test.samples} images of the held-out "${f.test.split}" split` +
      ` (best epoch ${t.bestEpoch ?? '-'} of ${t.epochsRun} by validation accuracy).`,
    '',
    table(
      ['', ''],
      [
        ['backbone', `${f.backbone} (${f.family}, ${f.parameters.toLocaleString('en-US')} parameters)`],
        ['input', `${f.inputSize}x${f.inputSize} grayscale, replicated to 3 channels, NHWC`],
        ['created', f.createdAt],
        ['code revision', f.codeRevision ?? 'unknown'],
        ['backend', f.backend],
        ['training time', `${formatDuration(t.durationS)} (${t.imagesPerS.toFixed(1)} images/s)`],
        ['ONNX model', `${(f.onnx.bytes / 1e6).toFixed(2)} MB, opset ${f.onnx.opset}`],
        [
          'ONNX latency',
          f.onnx.latencyMsPerImage === null
            ? 'not measured'
            : `${f.onnx.latencyMsPerImage.toFixed(2)} ms per image (batch 1, CPU)`,
        ],
        ['command', f.command ? `\`${f.command}\`` : '-'],
      ],
      'text',
    ),
    '',
    '## Data',
    '',
    `Format ${f.dataset.format} at \`${f.dataset.root}\`, fingerprint \`${f.dataset.fingerprint}\`.`,
    'Validation is a stratified split of the training data; the test split was used once, for the results below.',
    ignored.length > 0 ? `Left out on purpose: ${ignored.join(', ')}.` : '',
    skipped.length > 0
      ? `Unreadable images skipped: ${skipped.map(([split, n]) => `${n} in ${split}`).join(', ')}.`
      : 'No unreadable images.',
    '',
    'Images used by this run:',
    '',
    countsTable(f.dataset.used),
    '',
    'The dataset on disk:',
    '',
    countsTable(f.dataset.counts),
    '',
    '## Training',
    '',
    table(
      ['setting', 'value'],
      [
        [
          'epochs',
          `${t.epochsRun} of ${t.epochsPlanned}${t.stoppedEarly ? ` (early stop, patience ${t.patience})` : ''}`,
        ],
        ['batch size', t.batchSize],
        ['optimizer', `\`${JSON.stringify(t.optimizer)}\``],
        ['learning rate', `\`${JSON.stringify(t.schedule)}\``],
        ['head-only epochs', t.freezeEpochs],
        ['class balance', t.classBalance],
        ['label smoothing', t.labelSmoothing],
        ['augmentation', t.augmentation ? `\`${JSON.stringify(t.augmentation)}\`` : 'none'],
        ['seed', t.seed],
        ['pretrained', t.pretrained ?? 'none (random initialization)'],
      ],
      'text',
    ),
    '',
    `![training curves](${f.charts.curves})`,
    '',
    table(
      ['epoch', 'phase', 'lr', 'train loss', 'train acc', 'val loss', 'val acc', 'val macro-F1', 'images/s'],
      f.history.map((r) => [
        r.best ? `**${r.epoch}**` : r.epoch,
        r.phase,
        r.lr.toExponential(2),
        r.train_loss.toFixed(4),
        pct(r.train_accuracy),
        r.val_loss.toFixed(4),
        pct(r.val_accuracy),
        pct(r.val_macro_f1),
        r.images_per_s.toFixed(1),
      ]),
    ),
    '',
    '## Test results',
    '',
    perClassTable(f.test),
    '',
    `![confusion matrix](${f.charts.confusion})`,
    '',
    table(
      ['true \\ predicted', ...classes],
      f.test.confusion_matrix.map((row, i) => [classes[i], ...row]),
    ),
    '',
    f.calibration ? calibrationSection(f.calibration) : '',
  ]
    .filter((line, i, all) => !(line === '' && all[i - 1] === ''))
    .join('\n');
}
