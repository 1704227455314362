/**
 * The confusion matrix as a heatmap: rows are true classes, columns predictions, colour is the
 * share of the row (recall along the diagonal), text is the count.
 */
import type * as vl from 'vega-lite';
import type { ModelMetrics } from '@fer/shared';

/**
 * A Vega-Lite spec of the matrix.
 *
 * @example await writeChart(confusionSpec(metrics, 'resnet152 v3 on Testing'), dir, 'confusion');
 */
export function confusionSpec(
  metrics: Pick<ModelMetrics, 'confusion_matrix' | 'samples' | 'accuracy'> & {
    /** Only its keys are read: the classes in matrix order. */
    per_class: Record<string, unknown>;
  },
  title: string,
): vl.TopLevelSpec {
  const classes = Object.keys(metrics.per_class);
  const values = metrics.confusion_matrix.flatMap((row, t) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((count, p) => ({
      actual: classes[t],
      predicted: classes[p],
      count,
      share: total > 0 ? count / total : 0,
    }));
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: {
      text: title,
      subtitle: `${metrics.samples} images, accuracy ${(metrics.accuracy * 100).toFixed(1)}%`,
    },
    data: { values },
    width: 300,
    height: 300,
    encoding: {
      x: { field: 'predicted', type: 'ordinal', sort: classes, axis: { labelAngle: -40 } },
      y: { field: 'actual', type: 'ordinal', sort: classes },
    },
    layer: [
      {
        mark: 'rect',
        encoding: {
          color: {
            field: 'share',
            type: 'quantitative',
            scale: { scheme: 'blues', domain: [0, 1] },
            title: 'row share',
          },
        },
      },
      {
        mark: { type: 'text', fontSize: 11 },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: 'datum.share > 0.5', value: 'white' }, value: 'black' },
        },
      },
    ],
    config: { background: 'white' },
  };
}
