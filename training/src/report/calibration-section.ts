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

/** "Angry -0.164, Fear -0.059, ..." */
export function biasText(bias: Record<string, number>): string {
  return Object.entries(bias)
    .map(([c, b]) => `${c} ${b >= 0 ? '+' : ''}${b.toFixed(3)}`)
    .join(', ');
}

/** Which calibration the fit kept, in words. */
function keptText(info: CalibrationInfo): string {
  if (info.bias) return 'One temperature plus a per-class bias';
  return typeof info.temperature === 'number'
    ? 'One temperature for every class'
    : 'One temperature per class';
}

/** The candidates' cross-validated NLL and out-of-fold ECE, as far as the version recorded them. */
function selectionText(s: CalibrationInfo['selection']): string {
  const candidates: [string, number, number][] = [
    ['one temperature', s.scalar_nll, s.scalar_ece],
    ['one per class', s.per_class_nll, s.per_class_ece],
    ...(s.scalar_bias_nll !== undefined && s.scalar_bias_ece !== undefined
      ? [['one plus a bias', s.scalar_bias_nll, s.scalar_bias_ece] as [string, number, number]]
      : []),
  ];
  return `${candidates.map(([name, nll]) => `${name} ${nll.toFixed(4)}`).join(', ')}; out-of-fold ECE ${candidates
    .map(([, , ece]) => pct(ece))
    .join(', ')}`;
}

function calibrationLead(info: CalibrationInfo): string {
  const scaling =
    info.applied_to === 'logits'
      ? 'the logits by a temperature before the softmax'
      : 'the log of the output probabilities by a temperature and renormalises them (p^(1/T), power and renormalise)';
  return (
    `The published graph divides ${scaling}${info.bias ? ', then adds a per-class bias to the scaled scores' : ''}: ` +
    `T = ${temperatureText(info.temperature)}${info.bias ? `, bias ${biasText(info.bias)}` : ''}, fitted by maximum likelihood on the ${info.fitted_on.samples} validation images ` +
    `(seed ${info.fitted_on.split_seed}, fraction ${info.fitted_on.fraction}), never on the test split. ` +
    `${keptText(info)} was kept by ${info.selection.folds}-fold cross-validated NLL on those images ` +
    `(${selectionText(info.selection)}).`
  );
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
    ? calibrationLead(info)
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
