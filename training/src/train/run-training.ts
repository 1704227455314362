/**
 * `npm run train` for one or several backbones: trains each in turn (train-job.ts) and, for more
 * than one (`--backbone all`), writes the comparison: comparison.md, comparison.json and charts.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  comparisonMarkdown,
  costSpec,
  perClassSpec,
  qualitySpec,
  type ComparisonRow,
} from '../report/comparison';
import { writeChart } from '../report/render-chart';
import { datasetFingerprint } from '../data/fingerprint';
import { loadDataset } from '../data/load-dataset';
import { trainOne, type JobContext, type TrainResult } from './train-job';
import type { TrainOptions } from './train-options';

export interface TrainingOutcome {
  results: TrainResult[];
  /** Folder of the comparison, when several backbones were trained. */
  comparisonDir: string | null;
}

/** A comparison row from a published run. */
export function comparisonRow(result: TrainResult): ComparisonRow {
  return {
    name: result.name,
    version: result.version,
    backbone: result.backbone,
    parameters: result.parameters,
    accuracy: result.metrics.accuracy,
    macroF1: result.metrics.macro_f1,
    perClassF1: Object.fromEntries(Object.entries(result.metrics.per_class).map(([c, m]) => [c, m.f1])),
    trainingSeconds: result.trainingSeconds,
    trainImagesPerS: result.trainImagesPerS,
    modelBytes: result.modelBytes,
    latencyMsPerImage: result.latencyMsPerImage,
    epochsRun: result.epochsRun,
    bestEpoch: result.bestEpoch,
  };
}

/**
 * Writes comparison.md, comparison.json and three charts (SVG + PNG) into `dir`.
 *
 * @example await writeComparison(results, 'artifacts/comparisons/2025-01-01', context);
 */
export async function writeComparison(
  results: readonly TrainResult[],
  dir: string,
  context: Parameters<typeof comparisonMarkdown>[1],
): Promise<void> {
  const rows = results.map(comparisonRow);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'comparison.md'), comparisonMarkdown(rows, context));
  await writeFile(path.join(dir, 'comparison.json'), `${JSON.stringify({ context, rows }, null, 2)}\n`);
  await writeChart(qualitySpec(rows), dir, 'comparison-quality');
  await writeChart(perClassSpec(rows), dir, 'comparison-per-class');
  await writeChart(costSpec(rows), dir, 'comparison-cost');
}

/**
 * Trains every requested backbone; the TF.js backend must already be selected.
 *
 * @example const { results } = await runTraining(parseTrainArgs(argv, paths), ctx);
 */
export async function runTraining(options: TrainOptions, ctx: JobContext): Promise<TrainingOutcome> {
  const results: TrainResult[] = [];
  for (const backbone of options.backbones) {
    ctx.log.info({ backbone, of: options.backbones }, 'training backbone');
    results.push(await trainOne(options, backbone, ctx));
  }
  if (results.length < 2) return { results, comparisonDir: null };
  const createdAt = new Date().toISOString();
  const dir =
    options.comparisonDir ??
    path.join(path.dirname(options.runsDir), 'comparisons', createdAt.replace(/[:.]/g, '-'));
  const dataset = await loadDataset(options.data);
  await writeComparison(results, dir, {
    dataset: `${dataset.format} at ${dataset.root}`,
    fingerprint: await datasetFingerprint(dataset),
    testSplit: dataset.testSplit,
    createdAt,
    command: ctx.command,
  });
  ctx.log.info({ dir }, 'comparison written');
  ctx.print(`comparison written to ${path.join(dir, 'comparison.md')}`);
  return { results, comparisonDir: dir };
}
