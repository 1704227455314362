/**
 * `npm run calibrate`: a published version -> a new version with a temperature in its graph.
 *
 * source resolved and sha256-verified -> its validation split rebuilt from its metadata (and
 * checked: a trained version's dataset fingerprint, an ensemble's recorded validation score) ->
 * temperature fitted on those images (fit-calibration.ts) -> tfjs/ + model.onnx -> the test split,
 * decoded once, through the source's and the new model.onnx -> ONNX checked against TF.js ->
 * report (the source's report kept as source-report.md) -> atomic publish; the metadata is the
 * source's with new metrics, export and a `calibration` block naming the source.
 */
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  CLASSES,
  draftOf,
  NUM_CLASSES,
  ONNX_FILE,
  publish,
  REPORT_DIR,
  resolve,
  TFJS_DIR,
  type MetadataDraft,
  type ModelMetrics,
} from '@fer/shared';
import { loadLayersModel, saveLayersModel } from '@fer/shared/tfjs';
import { datasetFingerprint } from '../data/fingerprint';
import { loadDataset, requireSplit } from '../data/load-dataset';
import { cachePixels, type PixelSet } from '../data/pixel-cache';
import { validationSplit } from '../data/stratified-split';
import { OnnxClassifier } from '../release/onnx-classifier';
import { writeOnnxModel } from '../export/onnx';
import { maxAbsDiff, ONNX_PARITY_TOLERANCE, parityBatch } from '../release/parity';
import { probabilityMetrics } from '../metrics/probability-metrics';
import { confusionSpec } from '../report/confusion-chart';
import { calibrationSeries, reliabilitySpec } from '../report/reliability-chart';
import { writeChart } from '../report/render-chart';
import type { Logger } from '../train/logger';
import { renderCalibratedReport } from './calibrate-report';
import type { CalibrateOptions } from './calibrate-options';
import { fitCalibration, type FittedCalibration } from './fit-calibration';
import { CalibrateSourceError } from './version-split';
import { assertRecordedValidation, versionSplit } from './version-split';

export interface CalibrateContext {
  log: Logger;
  command: string | null;
  codeRevision: string | null;
}

export interface CalibrateResult {
  name: string;
  version: number;
  dir: string;
  source: { name: string; version: number };
  fit: Pick<FittedCalibration, 'info' | 'validation'>;
  validation: ModelMetrics;
  sourceTest: ModelMetrics;
  test: ModelMetrics;
}

export { CalibrateSourceError } from './version-split';

/** Report files of the source that the new version keeps (its training curves and epoch log). */
const KEPT_REPORT_FILES = new Set(['curves.svg', 'curves.png', 'epochs.jsonl']);
const SOURCE_REPORT = 'source-report.md';

async function withClassifier<T>(
  file: string,
  inputSize: number,
  use: (classifier: OnnxClassifier) => Promise<T>,
): Promise<T> {
  const classifier = await OnnxClassifier.load(file, inputSize, NUM_CLASSES);
  try {
    return await use(classifier);
  } finally {
    await classifier.dispose();
  }
}

/**
 * Calibrates and publishes `options.source` as a new version.
 *
 * @example const result = await runCalibrate(parseCalibrateArgs(argv, { cwd }), { log, command, codeRevision });
 * @throws CalibrateSourceError when the data or split cannot be the source's own; CalibrationModelError
 * for a source that is already calibrated; ModelNotFoundError.
 */
export async function runCalibrate(
  options: CalibrateOptions,
  ctx: CalibrateContext,
): Promise<CalibrateResult> {
  const { log } = ctx;
  const { registry, name: sourceName, version: sourceVersion } = options.source;
  const source = await resolve(registry, sourceName, sourceVersion, { verify: 'sha256' });
  const label = `${source.name}@${source.version}`;
  if (source.metadata.calibration)
    throw new CalibrateSourceError(
      `${label} is already calibrated (from ${JSON.stringify(source.metadata.calibration.source ?? 'its publish')})`,
    );
  const spec = source.metadata.preprocessing;
  const split = versionSplit(source.metadata);
  log.info({ source: label, split }, 'source resolved');

  const dataset = await loadDataset(options.data);
  const fingerprint = await datasetFingerprint(dataset);
  const trainedOn = source.metadata.training?.dataset.fingerprint;
  if (trainedOn !== undefined && trainedOn !== fingerprint) {
    throw new CalibrateSourceError(
      `${options.data} (fingerprint ${fingerprint}) is not the dataset ${label} was trained on (${trainedOn})`,
    );
  }
  const { validation: validationSamples } = validationSplit(
    requireSplit(dataset, dataset.trainSplit),
    split.fraction,
    split.seed,
  );
  const cache = async (samples: Parameters<typeof cachePixels>[0]): Promise<PixelSet> =>
    (await cachePixels(samples, spec, { onBadImage: options.onBadImage })).set;
  const validationSet = await cache(validationSamples);
  log.info({ validation: validationSet.count }, 'validation images cached');

  const sourceOnnx = path.join(source.dir, ONNX_FILE);
  await assertRecordedValidation(source, validationSet, options.batchSize);

  const staging = await mkdtemp(path.join(os.tmpdir(), 'fer-calibrate-'));
  // mkdtemp makes it owner-only, and publish copies the folder's mode into the version folder.
  await chmod(staging, 0o755);
  try {
    const model = await loadLayersModel(path.join(source.dir, TFJS_DIR));
    let fit: FittedCalibration;
    const onnxFile = path.join(staging, ONNX_FILE);
    let onnx;
    let tfjsParity: Float32Array;
    // The test split: decoded here, once, after the temperature is fixed.
    const testSet = await cache(requireSplit(dataset, dataset.testSplit));
    try {
      fit = await fitCalibration(
        model,
        { split: 'validation', seed: split.seed, fraction: split.fraction, set: validationSet },
        spec,
        options.batchSize,
      );
      log.info(
        { temperature: fit.info.temperature, validation: fit.info.validation },
        'temperature fitted on the validation images',
      );
      try {
        await saveLayersModel(fit.model, path.join(staging, TFJS_DIR));
        onnx = await writeOnnxModel(fit.model, onnxFile);
        const batch = parityBatch(testSet, spec);
        const y = tf.tidy(
          () =>
            fit.model.predict(
              tf.tensor4d(batch.x, [batch.n, spec.input_size, spec.input_size, 3]),
            ) as tf.Tensor,
        );
        tfjsParity = (await y.data()) as Float32Array;
        y.dispose();
      } finally {
        fit.model.dispose();
      }
    } finally {
      model.dispose();
    }

    const scoreOn = async (file: string, sets: { set: PixelSet; split: string }[]) =>
      withClassifier(file, spec.input_size, async (c) => {
        const scored = [];
        for (const { set, split: splitName } of sets) {
          const probabilities = await c.classifySet(set, spec, options.batchSize);
          scored.push({
            probabilities,
            metrics: probabilityMetrics(probabilities, set.labels, CLASSES, splitName),
          });
        }
        return { scored, latency: await c.latencyMs() };
      });
    const before = (await scoreOn(sourceOnnx, [{ set: testSet, split: dataset.testSplit }])).scored[0];
    const after = await scoreOn(onnxFile, [
      { set: testSet, split: dataset.testSplit },
      { set: validationSet, split: 'validation' },
    ]);
    const [test, validation] = after.scored;
    const parityMaxDiff = maxAbsDiff(tfjsParity, test.probabilities);
    if (parityMaxDiff > ONNX_PARITY_TOLERANCE) {
      throw new Error(
        `the ONNX export differs from the TF.js model by ${parityMaxDiff} (limit ${ONNX_PARITY_TOLERANCE})`,
      );
    }
    log.info({ parityMaxDiff, latencyMs: after.latency, ...onnx.stats }, 'ONNX export checked');

    const reportDir = path.join(staging, REPORT_DIR);
    await mkdir(reportDir, { recursive: true });
    const sourceReportDir = path.join(source.dir, REPORT_DIR);
    const sourceFiles = await readdir(sourceReportDir).catch(() => [] as string[]);
    for (const file of sourceFiles.filter((f) => KEPT_REPORT_FILES.has(f)))
      await copyFile(path.join(sourceReportDir, file), path.join(reportDir, file));
    const sourceReport = sourceFiles.includes('report.md') ? SOURCE_REPORT : null;
    if (sourceReport)
      await copyFile(path.join(sourceReportDir, 'report.md'), path.join(reportDir, sourceReport));
    const createdAt = new Date().toISOString();
    const [confusionChart] = await writeChart(
      confusionSpec(test.metrics, `${options.name} on ${dataset.testSplit}`),
      reportDir,
      'confusion',
    );
    const [reliabilityChart] = await writeChart(
      reliabilitySpec(
        calibrationSeries(testSet.labels, test.probabilities, before.probabilities, NUM_CLASSES),
        `${options.name} on ${dataset.testSplit}`,
      ),
      reportDir,
      'reliability',
    );
    const info = {
      ...fit.info,
      source: { name: source.name, version: source.version },
      ...(ctx.command ? { command: ctx.command } : {}),
    };
    await writeFile(
      path.join(reportDir, 'report.md'),
      renderCalibratedReport({
        name: options.name,
        version: null,
        source: { name: source.name, version: source.version, config: source.metadata.architecture.config },
        createdAt,
        codeRevision: ctx.codeRevision,
        command: ctx.command,
        dataset: { root: dataset.root, fingerprint },
        test: test.metrics,
        sourceTest: before.metrics,
        onnx: {
          bytes: (await stat(onnxFile)).size,
          opset: onnx.export.onnx_opset,
          latencyMsPerImage: after.latency,
          parityMaxDiff,
        },
        load: { average: os.loadavg()[0], cores: os.cpus().length },
        confusionChart,
        calibration: {
          info,
          validation: fit.validation,
          test: { before: before.metrics.calibration!, after: test.metrics.calibration! },
          chart: reliabilityChart,
        },
        sourceReport,
      }),
    );
    await writeFile(
      path.join(reportDir, 'metrics.json'),
      `${JSON.stringify({ test: test.metrics, validation: validation.metrics, source_test: before.metrics }, null, 2)}\n`,
    );

    const draft = draftOf(source.metadata);
    const ensemble = draft.ensemble
      ? {
          ...draft.ensemble,
          validation: {
            ...draft.ensemble.validation,
            accuracy: validation.metrics.accuracy,
            macro_f1: validation.metrics.macro_f1,
          },
        }
      : undefined;
    const metadata: MetadataDraft = {
      ...draft,
      created_at: createdAt,
      metrics: test.metrics,
      export: onnx.export,
      code_revision: ctx.codeRevision,
      ...(ensemble ? { ensemble } : {}),
      calibration: info,
    };
    const published = await publish({
      root: options.registry,
      name: options.name,
      sourceDir: staging,
      metadata,
    });
    log.info({ name: options.name, version: published.version, dir: published.dir }, 'published');
    return {
      name: options.name,
      version: published.version,
      dir: published.dir,
      source: { name: source.name, version: source.version },
      fit: { info, validation: fit.validation },
      validation: validation.metrics,
      sourceTest: before.metrics,
      test: test.metrics,
    };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
