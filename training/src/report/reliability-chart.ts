/**
 * The reliability diagram: for each confidence bin, how often the model was right against how
 * sure it was (the diagonal is perfect calibration), and below it how many images fell in each
 * bin. Several series (e.g. before and after a temperature) share the axes.
 */
import type * as vl from 'vega-lite';
import { expectedCalibrationError, reliabilityBins, type ReliabilityBin } from '../metrics/calibration';

export interface ReliabilitySeries {
  /** Legend label, e.g. "calibrated (T = 0.79)". */
  label: string;
  bins: readonly ReliabilityBin[];
  ece: number;
}

/**
 * A Vega-Lite spec of one or more reliability curves.
 *
 * @example await writeChart(reliabilitySpec([{ label: 'resnet-small', bins, ece }], 'resnet-small v1 on Testing'), dir, 'reliability');
 */
export function reliabilitySpec(series: readonly ReliabilitySeries[], title: string): vl.TopLevelSpec {
  const labels = series.map((s) => `${s.label} (ECE ${(s.ece * 100).toFixed(1)}%)`);
  const values = series.flatMap((s, i) =>
    s.bins
      .filter((b) => b.count > 0)
      .map((b) => ({
        series: labels[i],
        lower: b.lower,
        upper: b.upper,
        confidence: b.confidence,
        accuracy: b.accuracy,
        count: b.count,
      })),
  );
  const color = {
    field: 'series',
    type: 'nominal' as const,
    title: null,
    scale: { domain: labels },
    legend: { orient: 'bottom' as const, direction: 'vertical' as const, labelLimit: 0 },
  };
  const unit = { scale: { domain: [0, 1] }, axis: { format: '%' } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: {
      text: title,
      subtitle: `${series[0]?.bins.length ?? 0} equal-width confidence bins; dashed: perfect calibration`,
    },
    data: { values },
    vconcat: [
      {
        width: 320,
        height: 280,
        layer: [
          {
            data: { values: [{ x: 0 }, { x: 1 }] },
            mark: { type: 'line', strokeDash: [4, 4], color: 'gray' },
            encoding: {
              x: { field: 'x', type: 'quantitative', ...unit },
              y: { field: 'x', type: 'quantitative', ...unit },
            },
          },
          {
            mark: { type: 'line', point: true },
            encoding: {
              x: {
                field: 'confidence',
                type: 'quantitative',
                title: 'confidence (top probability)',
                ...unit,
              },
              y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', ...unit },
              color,
              tooltip: [
                { field: 'series' },
                { field: 'count', type: 'quantitative' },
                { field: 'confidence', type: 'quantitative', format: '.3f' },
                { field: 'accuracy', type: 'quantitative', format: '.3f' },
              ],
            },
          },
        ],
      },
      {
        width: 320,
        height: 90,
        mark: { type: 'bar', opacity: 0.5, binSpacing: 1 },
        encoding: {
          x: { field: 'lower', type: 'quantitative', title: 'confidence bin', ...unit },
          x2: { field: 'upper' },
          y: { field: 'count', type: 'quantitative', title: 'images', stack: null },
          y2: { datum: 0 },
          color,
        },
      },
    ],
    config: { background: 'white' },
  };
}

/**
 * The series of a published version's diagram: its answers, and before them the answers without
 * the temperature when it has one.
 *
 * @example reliabilitySpec(calibrationSeries(testSet.labels, probabilities, uncalibrated, 6), title)
 */
export function calibrationSeries(
  labels: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  uncalibrated: ArrayLike<number> | null,
  k: number,
): ReliabilitySeries[] {
  const series = (label: string, p: ArrayLike<number>): ReliabilitySeries => ({
    label,
    bins: reliabilityBins(p, labels, k),
    ece: expectedCalibrationError(p, labels, k),
  });
  return uncalibrated
    ? [series('without temperature', uncalibrated), series('published (with temperature)', probabilities)]
    : [series('published', probabilities)];
}
