/**
 * The calibration part of a published version's report.md: the temperature and how it was
 * chosen, ECE / NLL / Brier on the validation images it was fitted on and on the test split,
 * before and after, each class's ECE, and the reliability diagram. A pure function of the facts.
 */
import type { CalibrationInfo, CalibrationMetrics } from '@fer/shared';
import { pct } from '../metrics/format-metrics';
import { table } from './markdown-table';

export interface CalibrationFacts {
  /** The metadata's `calibration` block; null for a version published without a temperature. */
  info: CalibrationInfo | null;
  /** On the validation images, before and after (absent without a temperature). */
  validation: { before: CalibrationMetrics; after: CalibrationMetrics } | null;
  /** On the test split: as published, and before the temperature when there is one. */
  test: { before: CalibrationMetrics | null; after: CalibrationMetrics };
  /** File name of the reliability diagram (SVG) beside report.md. */
  chart: string;
}

/** "0.79", or "Angry 0.76, Fear 0.79, ..." for one temperature per class. */
export function temperatureText(temperature: CalibrationInfo['temperature']): string {
  return typeof temperature === 'number'
    ? temperature.toFixed(3)
    : Object.entries(temperature)
        .map(([c, t]) => `${c} ${t.toFixed(3)}`)
        .join(', ');
}

function row(label: string, m: Pick<CalibrationMetrics, 'ece' | 'nll' | 'brier'>): string[] {
  return [label, pct(m.ece), m.nll.toFixed(4), m.brier.toFixed(4)];
}

/**
 * @example lines.push(calibrationSection({ info, validation, test, chart: 'reliability.svg' }));
 */
export function calibrationSection(f: CalibrationFacts): string {
  const { info } = f;
  const lead = info
    ? `The published graph divides ${info.applied_to === 'logits' ? 'the logits by a temperature before the softmax' : 'the log of the output probabilities by a temperature and renormalises them (p^(1/T), power and renormalise)'}: ` +
      `T = ${temperatureText(info.temperature)}, fitted by maximum likelihood on the ${info.fitted_on.samples} validation images ` +
      `(seed ${info.fitted_on.split_seed}, fraction ${info.fitted_on.fraction}), never on the test split. ` +
      `${typeof info.temperature === 'number' ? 'One temperature for every class' : 'One temperature per class'} was kept by ${info.selection.folds}-fold cross-validated NLL on those images ` +
      `(one temperature ${info.selection.scalar_nll.toFixed(4)}, one per class ${info.selection.per_class_nll.toFixed(4)}; ` +
      `out-of-fold ECE ${pct(info.selection.scalar_ece)} and ${pct(info.selection.per_class_ece)}).`
    : 'This version was published without a temperature (`--no-calibrate`).';
  const rows = [
    ...(f.validation
      ? [row('validation, before', f.validation.before), row('validation, after', f.validation.after)]
      : []),
    ...(f.test.before ? [row('test, before', f.test.before)] : []),
    row(info ? 'test, after (published)' : 'test (published)', f.test.after),
  ];
  const classes = Object.keys(f.test.after.per_class_ece);
  const perClass = [
    ...(f.test.before ? [['test, before', ...classes.map((c) => pct(f.test.before!.per_class_ece[c]))]] : []),
    [info ? 'test, after' : 'test', ...classes.map((c) => pct(f.test.after.per_class_ece[c]))],
  ];
  return [
    '## Calibration',
    '',
    lead,
    '',
    table(['images', `ECE (${f.test.after.bins} bins)`, 'NLL', 'Brier'], rows),
    '',
    'Classwise ECE of each class:',
    '',
    table(['', ...classes], perClass),
    '',
    `![reliability diagram](${f.chart})`,
    '',
  ].join('\n');
}
