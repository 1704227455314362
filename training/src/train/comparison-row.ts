/**
 * One row of the backbone comparison for a published run. Quality and training facts are read from
 * the published version folder (metadata.json, report/epochs.jsonl), so a run published before an
 * interrupted study was resumed counts exactly like a fresh one; what no published file holds is
 * measured here: multiply-adds (counted on the backbone at its input size) and ONNX Runtime
 * throughput at batch 1 and 32 on this CPU.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { METADATA_FILE, ONNX_FILE, REPORT_DIR, type ModelMetadata } from '@fer/shared';
import { buildBackbone, resolveBackbone } from '../backbones';
import { countMultiplyAdds } from '../backbones/multiply-adds';
import { OnnxClassifier } from '../release/onnx-classifier';
import { eceOf, medianEpochSeconds, THROUGHPUT_BATCH_SIZES, type ComparisonRow } from '../report/comparison';
import { EPOCH_LOG_FILE, readEpochLog } from '../report/epoch-log';
import type { TrainResult } from './train-job';

export interface ThroughputBudget {
  /** Seconds of timed calls per batch size (at least). */
  minSeconds: number;
}

/** Long enough to average over scheduler noise, short next to a training run. */
export const DEFAULT_THROUGHPUT_BUDGET: ThroughputBudget = { minSeconds: 2 };

/**
 * Multiply-adds of one image through `backbone` at `inputSize` (built with zero kernels: quick).
 *
 * @example multiplyAddsOf('resnet-small', 96, 6) // 24_883_968
 */
export function multiplyAddsOf(backbone: string, inputSize: number, numClasses: number): number {
  const model = buildBackbone(resolveBackbone(backbone), { inputSize, numClasses, init: 'zeros' });
  try {
    return countMultiplyAdds(model);
  } finally {
    model.dispose();
  }
}

/**
 * The comparison row of a published run.
 *
 * @example const row = await comparisonRowOf(result); // row.cropsPerS.batch32
 */
export async function comparisonRowOf(
  result: TrainResult,
  budget: ThroughputBudget = DEFAULT_THROUGHPUT_BUDGET,
): Promise<ComparisonRow> {
  const metadata = JSON.parse(await readFile(path.join(result.dir, METADATA_FILE), 'utf8')) as ModelMetadata;
  const metrics = metadata.metrics ?? result.metrics;
  const inputSize = metadata.preprocessing.input_size;
  const history = await readEpochLog(path.join(result.dir, REPORT_DIR, EPOCH_LOG_FILE));
  const classifier = await OnnxClassifier.load(
    path.join(result.dir, ONNX_FILE),
    inputSize,
    metadata.classes.length,
  );
  let cropsPerS: ComparisonRow['cropsPerS'];
  try {
    // One after the other: the two measurements must not share the cores.
    const [small, large] = THROUGHPUT_BATCH_SIZES;
    const batch1 = await classifier.cropsPerSecond(small, { minSeconds: budget.minSeconds });
    const batch32 = await classifier.cropsPerSecond(large, { minSeconds: budget.minSeconds });
    cropsPerS = { batch1, batch32 };
  } finally {
    await classifier.dispose();
  }
  return {
    name: result.name,
    version: result.version,
    backbone: result.backbone,
    family: metadata.architecture.family,
    inputSize,
    parameters: result.parameters,
    multiplyAdds: multiplyAddsOf(result.backbone, inputSize, metadata.classes.length),
    accuracy: metrics.accuracy,
    macroF1: metrics.macro_f1,
    perClassF1: Object.fromEntries(Object.entries(metrics.per_class).map(([c, m]) => [c, m.f1])),
    confusion: metrics.confusion_matrix,
    testSamples: metrics.samples,
    ece: eceOf(metrics),
    trainedOn: metadata.training?.backend ?? null,
    trainingSeconds: result.trainingSeconds,
    secondsPerEpoch: medianEpochSeconds(history),
    trainImagesPerS: result.trainImagesPerS,
    modelBytes: result.modelBytes,
    latencyMsPerImage: result.latencyMsPerImage,
    cropsPerS,
    epochsRun: result.epochsRun,
    bestEpoch: result.bestEpoch,
    history,
  };
}
