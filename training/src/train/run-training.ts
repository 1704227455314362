/**
 * `npm run train` for one or several backbones: checks every backbone's pretrained weights first,
 * trains each in turn (train-job.ts) and, for more than one (`--backbone all` or a list), writes
 * the comparison: comparison.md, comparison.json and its charts.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  comparisonCharts,
  comparisonMarkdown,
  type ComparisonContext,
  type ComparisonFile,
} from '../report/comparison';
import { writeChart } from '../report/render-chart';
import { datasetFingerprint } from '../data/fingerprint';
import { loadDataset } from '../data/load-dataset';
import { comparisonRowOf, DEFAULT_THROUGHPUT_BUDGET, type ThroughputBudget } from './comparison-row';
import { checkPretrainedWeights } from './pretrained-weights';
import { trainOne, type JobContext, type TrainResult } from './train-job';
import type { TrainOptions } from './train-options';

export interface TrainingOutcome {
  results: TrainResult[];
  /** Folder of the comparison, when several backbones were trained. */
  comparisonDir: string | null;
}

/** Where a rejected weights file's full list of problems goes (the message shows the first few). */
export const WEIGHT_CHECKS_DIR = 'weight-checks';

/**
 * Writes comparison.md, comparison.json and the charts (SVG + PNG) into `dir`; measures each
 * published model's ONNX Runtime throughput on this CPU, one model at a time.
 *
 * @example await writeComparison(results, 'artifacts/comparisons/2025-01-01', context);
 */
export async function writeComparison(
  results: readonly TrainResult[],
  dir: string,
  context: Omit<ComparisonContext, 'machine'>,
  budget: ThroughputBudget = DEFAULT_THROUGHPUT_BUDGET,
): Promise<ComparisonFile> {
  const rows = [];
  for (const result of results) rows.push(await comparisonRowOf(result, budget));
  const cpus = os.cpus();
  const file: ComparisonFile = {
    context: {
      ...context,
      machine: { cpu: cpus[0]?.model.trim() ?? 'unknown CPU', cores: cpus.length, loadAverage: os.loadavg() },
    },
    rows,
  };
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'comparison.md'), comparisonMarkdown(rows, file.context));
  await writeFile(path.join(dir, 'comparison.json'), `${JSON.stringify(file, null, 2)}\n`);
  for (const chart of comparisonCharts(rows, context.testSplit))
    await writeChart(chart.spec, dir, chart.file);
  return file;
}

/**
 * Trains every requested backbone; the TF.js backend must already be selected.
 *
 * @example const { results } = await runTraining(parseTrainArgs(argv, paths), ctx);
 * @throws PretrainedWeightsError before any training when a backbone's weights are missing or unfit.
 */
export async function runTraining(options: TrainOptions, ctx: JobContext): Promise<TrainingOutcome> {
  if (options.pretrained !== null || Object.keys(options.pretrainedFor).length > 0)
    await checkPretrainedWeights(options, path.join(options.runsDir, WEIGHT_CHECKS_DIR), ctx.log);
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
