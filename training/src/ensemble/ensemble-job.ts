/**
 * `npm run ensemble`: published models -> one new version whose output is the mean of theirs.
 *
 * members resolved and sha256-verified -> same preprocessing, family, dataset and validation split
 * checked -> TF.js ensemble built (ensemble-model.ts; with `mirror`, every member also runs on the
 * mirrored input) -> a temperature fitted on the shared validation images and baked in as a
 * power-and-renormalise layer (calibration/) -> staged as tfjs/ + model.onnx and checked against
 * its TF.js model (release/) -> every member and the ensemble scored through onnxruntime on the
 * shared validation images and the test split -> the ensemble's ONNX checked against the
 * (temperature-scaled) mean of the members' ONNX outputs (on the mirrored images too) -> report ->
 * atomic publish with `ensemble` in the metadata (release/).
 */
import path from 'node:path';
import {
  assertCompatibleVersion,
  resolve,
  TFJS_DIR,
  type EnsembleInfo,
  type ModelMetrics,
  type VersionEntry,
} from '@fer/shared';
import { loadLayersModel } from '@fer/shared/tfjs';
import { datasetFingerprint } from '../data/fingerprint';
import { loadDataset, requireSplit } from '../data/load-dataset';
import { cachePixels } from '../data/pixel-cache';
import { validationSplit } from '../data/stratified-split';
import { fitCalibration, type FittedCalibration } from '../calibration/fit-calibration';
import { publishVersion, versionMetadata } from '../release/publish-version';
import { stageVersion, withStagingFolder, type StagedVersion } from '../release/stage-version';
import { writeTestReport } from '../release/test-report';
import type { Logger } from '../train/logger';
import { buildEnsemble } from './ensemble-model';
import { renderEnsembleReport, type EnsembleMemberFacts } from './ensemble-report';
import { scoreEnsemble } from './ensemble-scores';
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

const score = (m: ModelMetrics) => ({ accuracy: m.accuracy, macro_f1: m.macro_f1 });

/** metadata.json's `ensemble` block. */
function ensembleInfo(
  members: readonly RegistryEntry[],
  facts: readonly EnsembleMemberFacts[],
  validation: ModelMetrics,
  split: { seed: number; fraction: number },
  recipe: Pick<EnsembleInfo, 'mirror' | 'dataset'>,
): EnsembleInfo {
  return {
    combine: 'mean-probabilities',
    mirror: recipe.mirror,
    validation: {
      ...score(validation),
      split_seed: split.seed,
      fraction: split.fraction,
      samples: validation.samples,
    },
    dataset: recipe.dataset,
    members: members.map((m, i) => ({
      name: m.name,
      version: m.version,
      config: m.metadata.architecture.config,
      seed: facts[i].seed,
      validation: score(facts[i].validation),
      test: score(facts[i].test),
      command: facts[i].command,
    })),
  };
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

  return withStagingFolder('fer-ensemble-', async (staging) => {
    const loaded = await Promise.all(members.map((m) => loadLayersModel(path.join(m.dir, TFJS_DIR))));
    const ensemble = await buildEnsemble(loaded, options.name, { mirror: options.mirror });
    for (const m of loaded) m.dispose();
    let calibration: FittedCalibration | null = null;
    let staged: StagedVersion;
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
      staged = await stageVersion(calibration?.model ?? ensemble, staging, { set: testSet, spec }, log);
    } finally {
      calibration?.model.dispose();
      ensemble.dispose();
    }

    const scores = await scoreEnsemble(
      members.map((m) => m.dir),
      staged.onnxFile,
      {
        spec,
        validation: validationSet,
        test: testSet,
        testSplit: dataset.testSplit,
        mirror: options.mirror,
        batchSize: options.batchSize,
      },
      calibration,
    );
    log.info({ meanMaxDiff: scores.meanMaxDiff }, "ensemble checked against its members' mean");
    const { validation, test } = scores;

    const memberFacts: EnsembleMemberFacts[] = members.map((m, i) => ({
      label: label(m),
      config: m.metadata.architecture.config,
      seed: m.metadata.training!.seed,
      validation: scores.members[i].validation.metrics,
      test: scores.members[i].test.metrics,
      command: m.metadata.training!.command ?? null,
    }));
    const parameters = members.reduce((sum, m) => sum + m.metadata.architecture.parameters, 0);
    const createdAt = new Date().toISOString();
    // The members' mean is the ensemble without its temperature: the test split's "before".
    const testReport = await writeTestReport(
      staged.reportDir,
      options.name,
      {
        split: dataset.testSplit,
        labels: testSet.labels,
        probabilities: test.probabilities,
        metrics: test.metrics,
        before: calibration ? scores.mean : null,
      },
      calibration,
    );
    const report = renderEnsembleReport({
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
      onnx: staged.onnx,
      ...testReport,
    });

    const configs = members.map((m) => m.metadata.architecture.config);
    const metadata = versionMetadata(
      {
        createdAt,
        spec,
        metrics: test.metrics,
        staged,
        codeRevision: ctx.codeRevision,
        calibration: calibration?.info ?? null,
      },
      {
        architecture: {
          family: members[0].metadata.architecture.family,
          config: `ensemble(${configs.join(', ')})`,
          parameters,
        },
        training: null,
        ensemble: ensembleInfo(members, memberFacts, validation.metrics, split, {
          mirror: options.mirror,
          dataset: { format: dataset.format, fingerprint },
        }),
      },
    );
    const version = await publishVersion({
      registry: options.registry,
      name: options.name,
      staged,
      report,
      metrics: { test: test.metrics, validation: validation.metrics },
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
  });
}
