/**
 * `npm run ensemble`: published models -> one new version whose output is the mean of theirs.
 *
 * members resolved and sha256-verified -> same preprocessing, family, dataset and validation split
 * checked -> TF.js ensemble built (ensemble-model.ts; with `mirror`, every member also runs on the
 * mirrored input) -> a temperature fitted on the shared validation images and baked in as a
 * power-and-renormalise layer (calibration/) -> tfjs/ + model.onnx -> every member and the ensemble scored through
 * onnxruntime on the shared validation images and the test split -> the ensemble's ONNX checked
 * against its TF.js model and against the (temperature-scaled) mean of the members' ONNX outputs
 * (on the mirrored images too) -> report -> atomic publish with `ensemble` in the metadata.
 */
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  assertCompatibleVersion,
  CLASSES,
  NUM_CLASSES,
  ONNX_FILE,
  publish,
  REPORT_DIR,
  resolve,
  TFJS_DIR,
  type EnsembleInfo,
  type MetadataDraft,
  type ModelMetrics,
  type VersionEntry,
} from '@fer/shared';
import { loadLayersModel, saveLayersModel } from '@fer/shared/tfjs';
import { datasetFingerprint } from '../data/fingerprint';
import { loadDataset, requireSplit } from '../data/load-dataset';
import { cachePixels, mirrorSet, type PixelSet } from '../data/pixel-cache';
import { validationSplit } from '../data/stratified-split';
import { fitCalibration, type FittedCalibration } from '../calibration/fit-calibration';
import { logProbabilities, scaledProbabilities } from '../calibration/temperature-fit';
import { OnnxClassifier } from '../release/onnx-classifier';
import { writeOnnxModel } from '../export/onnx';
import { maxAbsDiff, ONNX_PARITY_TOLERANCE, parityBatch } from '../release/parity';
import { calibrationMetrics } from '../metrics/calibration';
import { probabilityMetrics } from '../metrics/probability-metrics';
import { confusionSpec } from '../report/confusion-chart';
import { calibrationSeries, reliabilitySpec } from '../report/reliability-chart';
import { writeChart } from '../report/render-chart';
import type { Logger } from '../train/logger';
import { buildEnsemble } from './ensemble-model';
import { renderEnsembleReport, type EnsembleMemberFacts } from './ensemble-report';
import type { EnsembleOptions } from './ensemble-options';
import { EnsembleMemberError, sharedSplit } from './member-split';

export interface EnsembleContext {
  log: Logger;
  command: string | null;
  codeRevision: string | null;
}

export interface EnsembleResult {
  name: string;
  version: number;
  dir: string;
  validation: ModelMetrics;
  test: ModelMetrics;
  members: { label: string; validation: ModelMetrics; test: ModelMetrics }[];
}

/** A resolved, verified registry version. */
type RegistryEntry = Extract<VersionEntry, { status: 'ready' }>;

const label = (e: RegistryEntry) => `${e.name}@${e.version}`;

/** Throws unless every member reads its input the same way as the first. */
function assertSameInputs(members: readonly RegistryEntry[]): void {
  const [first] = members;
  for (const m of members) {
    if (JSON.stringify(m.metadata.preprocessing) !== JSON.stringify(first.metadata.preprocessing)) {
      throw new EnsembleMemberError(
        `${label(m)} preprocesses differently from ${label(first)}: ${JSON.stringify(m.metadata.preprocessing)} vs ${JSON.stringify(first.metadata.preprocessing)}`,
      );
    }
    if (m.metadata.architecture.family !== first.metadata.architecture.family) {
      throw new EnsembleMemberError(
        `${label(m)} is a ${m.metadata.architecture.family}, ${label(first)} a ${first.metadata.architecture.family}; the registry records one family per version`,
      );
    }
  }
}

interface Scored {
  probabilities: Float32Array;
  metrics: ModelMetrics;
}

/** Opens a model file in onnxruntime for `use`, and closes it after. */
async function withClassifier<T>(
  onnxFile: string,
  inputSize: number,
  use: (classifier: OnnxClassifier) => Promise<T>,
): Promise<T> {
  const classifier = await OnnxClassifier.load(onnxFile, inputSize, NUM_CLASSES);
  try {
    return await use(classifier);
  } finally {
    await classifier.dispose();
  }
}

/**
 * Builds, scores and publishes the ensemble of `options.members`.
 *
 * @example const result = await runEnsemble(parseEnsembleArgs(argv, paths), { log, command, codeRevision });
 * @throws EnsembleMemberError for members that cannot be combined fairly; ModelNotFoundError.
 */
export async function runEnsemble(options: EnsembleOptions, ctx: EnsembleContext): Promise<EnsembleResult> {
  const { log } = ctx;
  const members = await Promise.all(
    options.members.map((m) => resolve(m.registry, m.name, m.version, { verify: 'sha256' })),
  );
  assertSameInputs(members);
  const split = sharedSplit(members.map((m) => m.metadata));
  const spec = members[0].metadata.preprocessing;
  log.info({ members: members.map(label), split }, 'members resolved');
  // publish() would refuse it at the end; say so before the work.
  await assertCompatibleVersion(options.registry, options.name, spec);

  const dataset = await loadDataset(options.data);
  const fingerprint = await datasetFingerprint(dataset);
  const trainedOn = members[0].metadata.training!.dataset.fingerprint;
  if (fingerprint !== trainedOn) {
    throw new EnsembleMemberError(
      `${options.data} (fingerprint ${fingerprint}) is not the dataset the members were trained on (${trainedOn})`,
    );
  }
  const { validation: validationSamples } = validationSplit(
    requireSplit(dataset, dataset.trainSplit),
    split.fraction,
    split.seed,
  );
  const cache = async (samples: Parameters<typeof cachePixels>[0]) =>
    (await cachePixels(samples, spec, { onBadImage: options.onBadImage })).set;
  const validationSet = await cache(validationSamples);
  const testSet = await cache(requireSplit(dataset, dataset.testSplit));
  log.info({ validation: validationSet.count, test: testSet.count }, 'pixels cached');

  const staging = await mkdtemp(path.join(os.tmpdir(), 'fer-ensemble-'));
  // mkdtemp makes it owner-only, and publish copies the folder's mode into the version folder.
  await chmod(staging, 0o755);
  try {
    const loaded = await Promise.all(members.map((m) => loadLayersModel(path.join(m.dir, TFJS_DIR))));
    const ensemble = await buildEnsemble(loaded, options.name, { mirror: options.mirror });
    for (const m of loaded) m.dispose();
    const onnxFile = path.join(staging, ONNX_FILE);
    let onnx;
    let tfjsProbabilities: Float32Array;
    let calibration: FittedCalibration | null = null;
    try {
      if (options.calibrate) {
        const images = {
          split: 'validation',
          seed: split.seed,
          fraction: split.fraction,
          set: validationSet,
        } as const;
        calibration = await fitCalibration(ensemble, images, spec, options.batchSize);
        log.info(
          { temperature: calibration.info.temperature, validation: calibration.info.validation },
          'temperature fitted on the validation images',
        );
      }
      const served = calibration?.model ?? ensemble;
      await saveLayersModel(served, path.join(staging, TFJS_DIR));
      onnx = await writeOnnxModel(served, onnxFile);
      const batch = parityBatch(testSet, spec);
      const y = tf.tidy(
        () =>
          served.predict(tf.tensor4d(batch.x, [batch.n, spec.input_size, spec.input_size, 3])) as tf.Tensor,
      );
      tfjsProbabilities = (await y.data()) as Float32Array;
      y.dispose();
    } finally {
      calibration?.model.dispose();
      ensemble.dispose();
    }

    const scoreOn = async (classifier: OnnxClassifier, set: PixelSet, split: string): Promise<Scored> => {
      const probabilities = await classifier.classifySet(set, spec, options.batchSize);
      return { probabilities, metrics: probabilityMetrics(probabilities, set.labels, CLASSES, split) };
    };
    const mirroredTest = options.mirror ? mirrorSet(testSet) : null;
    const memberScores: { validation: Scored; test: Scored; mirroredTest: Scored | null }[] = [];
    for (const m of members) {
      memberScores.push(
        await withClassifier(path.join(m.dir, ONNX_FILE), spec.input_size, async (classifier) => ({
          validation: await scoreOn(classifier, validationSet, 'validation'),
          test: await scoreOn(classifier, testSet, dataset.testSplit),
          mirroredTest: mirroredTest ? await scoreOn(classifier, mirroredTest, dataset.testSplit) : null,
        })),
      );
    }
    const { validation, test, latency } = await withClassifier(
      onnxFile,
      spec.input_size,
      async (classifier) => ({
        validation: await scoreOn(classifier, validationSet, 'validation'),
        test: await scoreOn(classifier, testSet, dataset.testSplit),
        latency: await classifier.latencyMs(),
      }),
    );

    // The export must compute what the TF.js model computes, and that must be the members' mean
    // (raised to 1/T and renormalised when calibrated).
    const parityMaxDiff = maxAbsDiff(tfjsProbabilities, test.probabilities);
    const views = memberScores.flatMap((s) => (s.mirroredTest ? [s.test, s.mirroredTest] : [s.test]));
    const mean = test.probabilities.map(
      (_, i) => views.reduce((sum, v) => sum + v.probabilities[i], 0) / views.length,
    );
    const expected = calibration
      ? scaledProbabilities(logProbabilities(mean), calibration.temperature, NUM_CLASSES)
      : mean;
    const meanMaxDiff = maxAbsDiff(expected, test.probabilities);
    if (parityMaxDiff > ONNX_PARITY_TOLERANCE || meanMaxDiff > ONNX_PARITY_TOLERANCE) {
      throw new Error(
        `the ensemble's ONNX export differs from its TF.js model by ${parityMaxDiff} and from the members' mean by ${meanMaxDiff} (limit ${ONNX_PARITY_TOLERANCE})`,
      );
    }
    log.info({ parityMaxDiff, meanMaxDiff, latencyMs: latency, ...onnx.stats }, 'ONNX export checked');

    const memberFacts: EnsembleMemberFacts[] = members.map((m, i) => ({
      label: label(m),
      config: m.metadata.architecture.config,
      seed: m.metadata.training!.seed,
      validation: memberScores[i].validation.metrics,
      test: memberScores[i].test.metrics,
      command: m.metadata.training!.command ?? null,
    }));
    const parameters = members.reduce((sum, m) => sum + m.metadata.architecture.parameters, 0);
    const createdAt = new Date().toISOString();
    const reportDir = path.join(staging, REPORT_DIR);
    await mkdir(reportDir, { recursive: true });
    const [confusionChart] = await writeChart(
      confusionSpec(test.metrics, `${options.name} on ${dataset.testSplit}`),
      reportDir,
      'confusion',
    );
    // The members' mean is the ensemble without its temperature: the test split's "before".
    const [reliabilityChart] = await writeChart(
      reliabilitySpec(
        calibrationSeries(testSet.labels, test.probabilities, calibration ? mean : null, NUM_CLASSES),
        `${options.name} on ${dataset.testSplit}`,
      ),
      reportDir,
      'reliability',
    );
    await writeFile(
      path.join(reportDir, 'report.md'),
      renderEnsembleReport({
        name: options.name,
        version: null,
        createdAt,
        codeRevision: ctx.codeRevision,
        command: ctx.command,
        dataset: { root: dataset.root, fingerprint },
        split,
        mirror: options.mirror,
        members: memberFacts,
        validation: validation.metrics,
        test: test.metrics,
        parameters,
        onnx: {
          bytes: (await stat(onnxFile)).size,
          opset: onnx.export.onnx_opset,
          latencyMsPerImage: latency,
          parityMaxDiff,
        },
        confusionChart,
        calibration: {
          info: calibration?.info ?? null,
          validation: calibration?.validation ?? null,
          test: {
            before: calibration ? calibrationMetrics(mean, testSet.labels, CLASSES) : null,
            after: test.metrics.calibration!,
          },
          chart: reliabilityChart,
        },
      }),
    );
    await writeFile(
      path.join(reportDir, 'metrics.json'),
      `${JSON.stringify({ test: test.metrics, validation: validation.metrics }, null, 2)}\n`,
    );

    const score = (m: ModelMetrics) => ({ accuracy: m.accuracy, macro_f1: m.macro_f1 });
    const ensembleInfo: EnsembleInfo = {
      combine: 'mean-probabilities',
      mirror: options.mirror,
      validation: {
        ...score(validation.metrics),
        split_seed: split.seed,
        fraction: split.fraction,
        samples: validation.metrics.samples,
      },
      dataset: { format: dataset.format, fingerprint },
      members: members.map((m, i) => ({
        name: m.name,
        version: m.version,
        config: m.metadata.architecture.config,
        seed: memberFacts[i].seed,
        validation: score(memberFacts[i].validation),
        test: score(memberFacts[i].test),
        command: memberFacts[i].command,
      })),
    };
    const configs = members.map((m) => m.metadata.architecture.config);
    const metadata: MetadataDraft = {
      created_at: createdAt,
      classes: [...CLASSES],
      preprocessing: spec,
      architecture: {
        family: members[0].metadata.architecture.family,
        config: `ensemble(${configs.join(', ')})`,
        parameters,
      },
      metrics: test.metrics,
      training: null,
      export: onnx.export,
      code_revision: ctx.codeRevision,
      ensemble: ensembleInfo,
      ...(calibration ? { calibration: calibration.info } : {}),
    };
    const version = await publish({
      root: options.registry,
      name: options.name,
      sourceDir: staging,
      metadata,
    });
    log.info({ name: options.name, version: version.version, dir: version.dir }, 'published');
    return {
      name: options.name,
      version: version.version,
      dir: version.dir,
      validation: validation.metrics,
      test: test.metrics,
      members: memberFacts.map((m) => ({ label: m.label, validation: m.validation, test: m.test })),
    };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
