/**
 * `npm run evaluate`: a published model on a labelled dataset split, through the serving path —
 * the version's model.onnx in onnxruntime, inputs made by @fer/shared exactly as the service
 * makes them for `crop=none` (decode, resize through the dataset's native size, normalize).
 * Prints the metrics and writes them as JSON.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CLASSES, ONNX_FILE, resolve, type ModelMetrics } from '@fer/shared';
import type { DatasetIndex } from '../data/dataset-types';
import { countByClass, loadDataset, requireSplit } from '../data/load-dataset';
import { cachePixels, type BadImagePolicy, type SkippedImage } from '../data/pixel-cache';
import { Rng } from '../data/rng';
import { stratifiedSample } from '../data/stratified-split';
import { reliabilityBins, type ReliabilityBin } from '../metrics/calibration';
import { probabilityMetrics } from '../metrics/probability-metrics';
import { reliabilitySpec } from '../report/reliability-chart';
import { writeChart } from '../report/render-chart';
import type { Logger } from '../train/logger';
import { parseModelRef } from '../model-ref';
import { OnnxClassifier } from '../release/onnx-classifier';

export interface EvaluateOptions {
  registry: string;
  /** NAME or NAME@VERSION. */
  model: string;
  data: string;
  /** A split name of the dataset, or 'test' / 'train' for the dataset's test / training split. */
  split: string;
  batchSize: number;
  onBadImage: BadImagePolicy;
  /** Evaluate a stratified sample of at most this many images (seeded). */
  maxImages?: number;
  seed: number;
  /** JSON output file; default `<outDir>/<name>-v<version>-<split>.json`. */
  out: string | null;
  outDir: string;
  threads?: number;
}

export interface EvaluationResult {
  model: { name: string; version: number };
  data: { root: string; format: string; split: string; counts: Record<string, number> };
  /** Classification metrics and `calibration` (ECE, NLL, Brier, per-class ECE). */
  metrics: ModelMetrics;
  /** The reliability diagram's bins (drawn beside the JSON as `<name>.reliability.svg|png`). */
  reliability: ReliabilityBin[];
  skipped: SkippedImage[];
  timings: { preprocess_s: number; inference_s: number; images_per_s: number };
  created_at: string;
  /** The JSON file and the reliability diagram's SVG written (not part of the file itself). */
  out?: string;
  chart?: string;
}

/** Resolves 'test'/'train' to the dataset's split names; anything else must be a split name. */
export function resolveSplitName(dataset: DatasetIndex, split: string): string {
  if (split === 'test') return dataset.testSplit;
  if (split === 'train') return dataset.trainSplit;
  return split;
}

/**
 * Evaluates a registry model on a dataset split and writes the JSON report.
 *
 * @example const result = await runEvaluation({ registry: 'models', model: 'resnet152', data, split: 'test', ... }, log);
 * @throws ModelNotFoundError, DatasetError.
 */
export async function runEvaluation(options: EvaluateOptions, log: Logger): Promise<EvaluationResult> {
  const ref = parseModelRef(options.model);
  const entry = await resolve(options.registry, ref.name, ref.version, { verify: 'sha256' });
  const spec = entry.metadata.preprocessing;
  log.info({ model: ref.name, version: entry.version, dir: entry.dir }, 'model resolved');

  const dataset = await loadDataset(options.data);
  const splitName = resolveSplitName(dataset, options.split);
  let samples = requireSplit(dataset, splitName);
  if (options.maxImages !== undefined) {
    samples = stratifiedSample(samples, options.maxImages, Rng.derive(options.seed, 'evaluate-subset'));
  }
  log.info({ format: dataset.format, split: splitName, images: samples.length }, 'dataset loaded');

  const t0 = performance.now();
  const { set, skipped } = await cachePixels(samples, spec, { onBadImage: options.onBadImage });
  const preprocessSeconds = (performance.now() - t0) / 1000;
  if (skipped.length > 0) log.warn({ skipped: skipped.length }, 'unreadable images skipped');

  const classifier = await OnnxClassifier.load(
    path.join(entry.dir, ONNX_FILE),
    spec.input_size,
    entry.metadata.classes.length,
    options.threads ? { threads: options.threads } : {},
  );
  const t1 = performance.now();
  let probabilities: Float32Array;
  try {
    probabilities = await classifier.classifySet(set, spec, options.batchSize);
  } finally {
    await classifier.dispose();
  }
  const inferenceSeconds = (performance.now() - t1) / 1000;

  const metrics = probabilityMetrics(probabilities, set.labels, CLASSES, splitName);
  const result: EvaluationResult = {
    model: { name: ref.name, version: entry.version },
    data: {
      root: path.resolve(options.data),
      format: dataset.format,
      split: splitName,
      counts: countByClass(samples),
    },
    metrics,
    reliability: reliabilityBins(probabilities, set.labels, CLASSES.length),
    skipped,
    timings: {
      preprocess_s: preprocessSeconds,
      inference_s: inferenceSeconds,
      images_per_s: set.count / Math.max(1e-9, inferenceSeconds),
    },
    created_at: new Date().toISOString(),
  };
  const out = options.out ?? path.join(options.outDir, `${ref.name}-v${entry.version}-${splitName}.json`);
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  const chartName = `${path.basename(out, '.json')}.reliability`;
  const [chart] = await writeChart(
    reliabilitySpec(
      [{ label: `${ref.name} v${entry.version}`, bins: result.reliability, ece: metrics.calibration!.ece }],
      `${ref.name} v${entry.version} on ${splitName}`,
    ),
    path.dirname(out),
    chartName,
  );
  log.info(
    { out, accuracy: metrics.accuracy, macro_f1: metrics.macro_f1, ece: metrics.calibration!.ece },
    'evaluation written',
  );
  return { ...result, out, chart: path.join(path.dirname(out), chart) };
}
