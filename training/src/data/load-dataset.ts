/**
 * One entry point for every supported layout: detect it, list every split's samples, and
 * summarize the counts per class and split that the job prints before training.
 */
import { CLASSES } from '@fer/shared';
import { DatasetError } from './dataset-errors';
import type { DatasetIndex, Sample } from './dataset-types';
import { detectDatasetFormat } from './detect-format';
import { readClassFolders } from './read-image-folders';
import { readFer2013Csv } from './read-fer2013-csv';

/**
 * Lists a dataset (any supported layout) without decoding pixels.
 *
 * @example const dataset = await loadDataset('../shared/datasets/fer6'); dataset.format // 'kaggle'
 * @throws DatasetError when the path is missing, empty, of an unknown layout or has an unknown class folder.
 */
export async function loadDataset(dataPath: string): Promise<DatasetIndex> {
  const detected = await detectDatasetFormat(dataPath);
  const root = detected.format === 'fer2013-csv' ? detected.splitPaths.Training : dataPath;
  const splits: Record<string, Sample[]> = {};
  const ignored: Record<string, Record<string, number>> = {};
  if (detected.format === 'fer2013-csv') {
    const csv = await readFer2013Csv(root);
    Object.assign(splits, csv.splits);
    Object.assign(ignored, csv.ignored);
  } else {
    for (const [name, dir] of Object.entries(detected.splitPaths)) {
      const listing = await readClassFolders(dir, dataPath);
      splits[name] = listing.samples;
      if (Object.keys(listing.ignored).length > 0) ignored[name] = listing.ignored;
    }
  }
  return {
    format: detected.format,
    root,
    splits,
    trainSplit: detected.trainSplit,
    testSplit: detected.testSplit,
    ignored,
  };
}

/**
 * Samples of one split, or a clear error naming the splits that exist.
 *
 * @example const test = requireSplit(dataset, dataset.testSplit);
 */
export function requireSplit(dataset: DatasetIndex, split: string): Sample[] {
  const samples = dataset.splits[split];
  if (samples === undefined) {
    const present = Object.keys(dataset.splits);
    throw new DatasetError(
      'MISSING_SPLIT',
      `The ${dataset.format} dataset at ${dataset.root} has no "${split}" split (it has: ${present.join(', ') || 'none'})`,
    );
  }
  if (samples.length === 0) {
    throw new DatasetError('EMPTY_DATASET', `The "${split}" split of ${dataset.root} has no images`);
  }
  return samples;
}

/**
 * Images per class name, in CLASSES order (every class present, zero when absent).
 *
 * @example countByClass(samples) // { Angry: 3995, Fear: 4097, ... }
 */
export function countByClass(samples: readonly Pick<Sample, 'label'>[]): Record<string, number> {
  const counts = new Array<number>(CLASSES.length).fill(0);
  for (const s of samples) counts[s.label]++;
  return Object.fromEntries(CLASSES.map((c, i) => [c, counts[i]]));
}

/** Counts per split and class, the table printed before training and stored in metadata. */
export function datasetCounts(dataset: DatasetIndex): Record<string, Record<string, number>> {
  return Object.fromEntries(Object.entries(dataset.splits).map(([name, s]) => [name, countByClass(s)]));
}

/**
 * Fails when a class has no image in a split a model is trained on: the model could never
 * predict it, and per-class metrics would be meaningless.
 */
export function assertEveryClassPresent(samples: readonly Sample[], split: string, root: string): void {
  const counts = countByClass(samples);
  const missing = CLASSES.filter((c) => counts[c] === 0);
  if (missing.length > 0) {
    throw new DatasetError(
      'MISSING_CLASS',
      `The "${split}" split of ${root} has no images of ${missing.join(', ')}; every class needs training images`,
    );
  }
}

/** A plain-text table of counts per split and class, for logs and the console. */
export function formatCounts(counts: Record<string, Record<string, number>>): string {
  const splits = Object.keys(counts);
  const header = ['class', ...splits];
  const rows = CLASSES.map((c) => [c, ...splits.map((s) => String(counts[s][c] ?? 0))]);
  rows.push(['total', ...splits.map((s) => String(Object.values(counts[s]).reduce((a, b) => a + b, 0)))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
