/**
 * The training curves of a run: loss and accuracy per epoch, training vs validation, side by side.
 */
import type * as vl from 'vega-lite';
import type { EpochRecord } from './epoch-log';

/**
 * A Vega-Lite spec of the curves.
 *
 * @example await writeChart(curvesSpec(history, 'resnet152 v3'), dir, 'curves');
 */
export function curvesSpec(history: readonly EpochRecord[], title: string): vl.TopLevelSpec {
  const values = history.flatMap((r) => [
    { epoch: r.epoch, metric: 'loss', split: 'training', value: r.train_loss },
    { epoch: r.epoch, metric: 'loss', split: 'validation', value: r.val_loss },
    { epoch: r.epoch, metric: 'accuracy', split: 'training', value: r.train_accuracy },
    { epoch: r.epoch, metric: 'accuracy', split: 'validation', value: r.val_accuracy },
  ]);
  const best = history.filter((r) => r.best).at(-1);
  const panel = (metric: 'loss' | 'accuracy') => ({
    width: 320,
    height: 220,
    title: metric === 'loss' ? 'Loss' : 'Accuracy',
    layer: [
      {
        transform: [{ filter: { field: 'metric', equal: metric } }],
        mark: { type: 'line' as const, point: true },
        encoding: {
          x: { field: 'epoch', type: 'quantitative' as const, axis: { tickMinStep: 1, format: 'd' } },
          y: {
            field: 'value',
            type: 'quantitative' as const,
            title: metric,
            ...(metric === 'accuracy' ? { scale: { domain: [0, 1] }, axis: { format: '%' } } : {}),
          },
          color: { field: 'split', type: 'nominal' as const, title: null },
        },
      },
      ...(best
        ? [
            {
              data: { values: [{ epoch: best.epoch }] },
              mark: { type: 'rule' as const, strokeDash: [4, 4], color: 'gray' },
              encoding: { x: { field: 'epoch', type: 'quantitative' as const } },
            },
          ]
        : []),
    ],
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: title, subtitle: best ? `dashed: best epoch (${best.epoch}) by validation accuracy` : '' },
    data: { values },
    hconcat: [panel('loss'), panel('accuracy')],
    config: { background: 'white' },
  };
}
