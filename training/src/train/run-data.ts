/**
 * The images of a training run: the dataset found and counted, its fingerprint, an optional
 * stratified subset and the stratified train/validation split (a student adopts its teacher's),
 * the splits decoded into pixel caches, and the test split, decoded once at the end.
 */
import { performance } from 'node:perf_hooks';
import type { PreprocessSpec } from '@fer/shared';
import type { DatasetIndex, Sample } from '../data/dataset-types';
import { datasetFingerprint } from '../data/fingerprint';
import {
  assertEveryClassPresent,
  countByClass,
  datasetCounts,
  formatCounts,
  loadDataset,
  requireSplit,
} from '../data/load-dataset';
import { cachePixels, type PixelSet } from '../data/pixel-cache';
import { Rng } from '../data/rng';
import { stratifiedSample, validationSplit } from '../data/stratified-split';
import { assertTeacherDataset, type Teacher } from '../distill/teacher';
import type { JobContext } from './job-context';
import type { Logger } from './logger';
import type { TrainOptions } from './train-options';

export interface RunData {
  dataset: DatasetIndex;
  /** Per dataset split and class, as found on disk. */
  counts: Record<string, Record<string, number>>;
  fingerprint: string;
  /** The seed the validation split was drawn with (`--split-seed`, else `--seed`). */
  splitSeed: number;
  split: { train: Sample[]; validation: Sample[] };
  /** Per role (train / validation, and test once it is read) and class, as used by the run. */
  used: Record<string, Record<string, number>>;
}

/**
 * Finds and counts the dataset, checks it can serve the whole run (test split included: fail now,
 * not after hours of training), and draws the run's training and validation images.
 *
 * @example const data = await splitDataset(options, null, ctx); // data.split.train, data.fingerprint
 * @throws DatasetError for a dataset without the splits or classes the run needs;
 *         CalibrateSourceError for a teacher trained on other data.
 */
export async function splitDataset(
  options: TrainOptions,
  teacher: Teacher | null,
  ctx: Pick<JobContext, 'log' | 'print'>,
): Promise<RunData> {
  const dataset = await loadDataset(options.data);
  const counts = datasetCounts(dataset);
  ctx.log.info(
    { format: dataset.format, root: dataset.root, counts, ignored: dataset.ignored },
    'dataset found',
  );
  ctx.print(`dataset ${dataset.root} (${dataset.format})\n${formatCounts(counts)}`);
  const trainSamples = requireSplit(dataset, dataset.trainSplit);
  requireSplit(dataset, dataset.testSplit); // fail now, not after hours of training
  assertEveryClassPresent(trainSamples, dataset.trainSplit, dataset.root);
  const fingerprint = await datasetFingerprint(dataset);
  if (teacher) assertTeacherDataset(teacher, fingerprint);
  const subset = <T extends { label: number }>(samples: T[]): T[] =>
    options.maxTrainImages === null
      ? samples
      : stratifiedSample(samples, options.maxTrainImages, Rng.derive(options.seed, 'train-subset'));
  const splitSeed = options.splitSeed ?? options.seed;
  // A student holds out exactly its teacher's validation images, so its subset comes after the split.
  const whole = teacher ? validationSplit(trainSamples, options.valFraction, splitSeed) : null;
  const split = whole
    ? { train: subset(whole.train), validation: whole.validation }
    : validationSplit(subset(trainSamples), options.valFraction, splitSeed);
  const used = { train: countByClass(split.train), validation: countByClass(split.validation) };
  ctx.log.info({ train: used.train, validation: used.validation }, 'stratified split');
  return { dataset, counts, fingerprint, splitSeed, split, used };
}

/** A decoded split and how many of its images could not be decoded (skipped). */
export interface DecodedSplit {
  set: PixelSet;
  skipped: number;
}

/**
 * Decodes `samples` into a pixel cache at the run's input size, logging what was skipped.
 *
 * @example const train = await cacheSplit('Training', data.split.train, spec, options, log);
 */
export async function cacheSplit(
  label: string,
  samples: readonly Sample[],
  spec: PreprocessSpec,
  options: Pick<TrainOptions, 'onBadImage'>,
  log: Logger,
): Promise<DecodedSplit> {
  const t0 = performance.now();
  const { set, skipped } = await cachePixels(samples, spec, { onBadImage: options.onBadImage });
  const seconds = (performance.now() - t0) / 1000;
  log.info({ split: label, images: set.count, skipped: skipped.length, seconds }, 'pixels cached');
  for (const s of skipped.slice(0, 10))
    log.warn({ split: label, image: s.id, reason: s.reason }, 'image skipped');
  return { set, skipped: skipped.length };
}

/**
 * The held-out test split (a seeded stratified sample of it with --max-test-images), decoded; its
 * counts join `data.used`. Called once per run, after training.
 *
 * @example const test = await cacheTestSplit(data, spec, options, log);
 */
export async function cacheTestSplit(
  data: RunData,
  spec: PreprocessSpec,
  options: Pick<TrainOptions, 'maxTestImages' | 'seed' | 'onBadImage'>,
  log: Logger,
): Promise<DecodedSplit> {
  const { dataset } = data;
  let samples = requireSplit(dataset, dataset.testSplit);
  if (options.maxTestImages !== null) {
    samples = stratifiedSample(samples, options.maxTestImages, Rng.derive(options.seed, 'test-subset'));
  }
  const cached = await cacheSplit(dataset.testSplit, samples, spec, options, log);
  data.used.test = countByClass(samples);
  return cached;
}
