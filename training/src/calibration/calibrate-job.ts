/**
 * `npm run calibrate`: a published version -> a new version with a temperature in its graph.
 *
 * source resolved and sha256-verified -> its validation split rebuilt from its metadata (and
 * checked: a trained version's dataset fingerprint, an ensemble's recorded validation score) ->
 * temperature fitted on those images (fit-calibration.ts) -> staged as tfjs/ + model.onnx and
 * checked against TF.js (release/) -> the test split, decoded once, through the source's and the
 * new model.onnx -> report (the source's report kept as source-report.md) -> atomic publish
 * (release/); the metadata is the source's with new metrics, export and a `calibration` block
 * naming the source.
 */
import { copyFile, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  CLASSES,
  draftOf,
  NUM_CLASSES,
  ONNX_FILE,
  REPORT_DIR,
  resolve,
  TFJS_DIR,
  type ModelMetrics,
} from '@fer/shared';
import { loadLayersModel } from '@fer/shared/tfjs';
import { datasetFingerprint } from '../data/fingerprint';
import { loadDataset, requireSplit } from '../data/load-dataset';
import { cachePixels, type PixelSet } from '../data/pixel-cache';
import { validationSplit } from '../data/stratified-split';
import { probabilityMetrics } from '../metrics/probability-metrics';
import { withOnnxClassifier } from '../release/onnx-classifier';
import { publishVersion, versionMetadata } from '../release/publish-version';
import { stageVersion, withStagingFolder, type StagedVersion } from '../release/stage-version';
import { writeTestReport } from '../release/test-report';
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

/** Copies the source's kept report files; returns the name its report.md is kept under, if it had one. */
async function keepSourceReport(sourceDir: string, reportDir: string): Promise<string | null> {
  const sourceReportDir = path.join(sourceDir, REPORT_DIR);
  const sourceFiles = await readdir(sourceReportDir).catch(() => [] as string[]);
  for (const file of sourceFiles.filter((f) => KEPT_REPORT_FILES.has(f)))
    await copyFile(path.join(sourceReportDir, file), path.join(reportDir, file));
  if (!sourceFiles.includes('report.md')) return null;
  await copyFile(path.join(sourceReportDir, 'report.md'), path.join(reportDir, SOURCE_REPORT));
  return SOURCE_REPORT;
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

  return withStagingFolder('fer-calibrate-', async (staging) => {
    const model = await loadLayersModel(path.join(source.dir, TFJS_DIR));
    let fit: FittedCalibration;
    let staged: StagedVersion;
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
        staged = await stageVersion(fit.model, staging, { set: testSet, spec }, log);
      } finally {
        fit.model.dispose();
      }
    } finally {
      model.dispose();
    }

    const scoreOn = (file: string, sets: { set: PixelSet; split: string }[]) =>
      withOnnxClassifier(file, spec.input_size, NUM_CLASSES, async (c) => {
        const scored = [];
        for (const { set, split: splitName } of sets) {
          const probabilities = await c.classifySet(set, spec, options.batchSize);
          scored.push({
            probabilities,
            metrics: probabilityMetrics(probabilities, set.labels, CLASSES, splitName),
          });
        }
        return scored;
      });
    const [before] = await scoreOn(sourceOnnx, [{ set: testSet, split: dataset.testSplit }]);
    const [test, validation] = await scoreOn(staged.onnxFile, [
      { set: testSet, split: dataset.testSplit },
      { set: validationSet, split: 'validation' },
    ]);

    const sourceReport = await keepSourceReport(source.dir, staged.reportDir);
    const createdAt = new Date().toISOString();
    const info = {
      ...fit.info,
      source: { name: source.name, version: source.version },
      ...(ctx.command ? { command: ctx.command } : {}),
    };
    const testReport = await writeTestReport(
      staged.reportDir,
      options.name,
      {
        split: dataset.testSplit,
        labels: testSet.labels,
        probabilities: test.probabilities,
        metrics: test.metrics,
        before: before.probabilities,
      },
      { info, validation: fit.validation },
    );
    const report = renderCalibratedReport({
      name: options.name,
      version: null,
      source: { name: source.name, version: source.version, config: source.metadata.architecture.config },
      createdAt,
      codeRevision: ctx.codeRevision,
      command: ctx.command,
      dataset: { root: dataset.root, fingerprint },
      test: test.metrics,
      sourceTest: before.metrics,
      onnx: staged.onnx,
      load: { average: os.loadavg()[0], cores: os.cpus().length },
      ...testReport,
      sourceReport,
    });

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
    const metadata = versionMetadata(
      {
        createdAt,
        spec,
        metrics: test.metrics,
        staged,
        codeRevision: ctx.codeRevision,
        calibration: info,
      },
      { ...draft, ...(ensemble ? { ensemble } : {}) },
    );
    const published = await publishVersion({
      registry: options.registry,
      name: options.name,
      staged,
      report,
      metrics: { test: test.metrics, validation: validation.metrics, source_test: before.metrics },
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
  });
}
