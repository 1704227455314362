/**
 * Metrics as plain-text tables for the console (`npm run evaluate`, end of `npm run train`).
 */
import type { CalibrationMetrics, ModelMetrics } from '@fer/shared';

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '))
    .join('\n');
}

/** A share as a percentage with one decimal: 0.6762 -> '67.6%'. */
export const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/**
 * The calibration figures: ECE, NLL and Brier score, then each class's ECE.
 *
 * @example formatCalibration(metrics.calibration) // 'calibration (15 bins): ECE 5.2%, NLL 0.913, Brier 0.452\n...'
 */
export function formatCalibration(calibration: CalibrationMetrics): string {
  const classes = Object.keys(calibration.per_class_ece);
  return [
    `calibration (${calibration.bins} bins): ECE ${pct(calibration.ece)}, NLL ${calibration.nll.toFixed(3)}, Brier ${calibration.brier.toFixed(3)}`,
    table([
      ['per-class ECE', ...classes],
      ['', ...classes.map((c) => pct(calibration.per_class_ece[c]))],
    ]),
  ].join('\n');
}

/**
 * Summary line, per-class table and confusion matrix, and the calibration figures when measured.
 *
 * @example console.log(formatMetrics(metrics))
 */
export function formatMetrics(metrics: ModelMetrics): string {
  const classes = Object.keys(metrics.per_class);
  const perClass = table([
    ['class', 'precision', 'recall', 'F1', 'support'],
    ...classes.map((c) => {
      const m = metrics.per_class[c];
      return [c, pct(m.precision), pct(m.recall), pct(m.f1), String(m.support)];
    }),
  ]);
  const confusion = table([
    ['true \\ predicted', ...classes],
    ...metrics.confusion_matrix.map((row, i) => [classes[i], ...row.map(String)]),
  ]);
  return [
    `split ${metrics.split}: ${metrics.samples} images, accuracy ${pct(metrics.accuracy)}, macro-F1 ${pct(metrics.macro_f1)}`,
    '',
    perClass,
    '',
    confusion,
    ...(metrics.calibration ? ['', formatCalibration(metrics.calibration)] : []),
  ].join('\n');
}
