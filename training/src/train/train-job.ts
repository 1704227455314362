/**
 * One backbone, end to end (DESIGN §2): dataset -> counts -> stratified train/validation split
 * (run-data.ts) -> run folder (run-folder.ts) -> cached pixels -> epochs (train-loop.ts) -> best
 * weights -> a temperature fitted on the validation split and baked into the graph (calibration/)
 * -> the test split, once -> tfjs/ + model.onnx checked, report, atomic publish of a new version
 * with complete metadata (trained-version.ts over release/).
 *
 * A run lives in its own folder (checkpoints, epoch log, staging); `resume` continues it,
 * including a run that finished training but was interrupted before it published.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { assertCompatibleVersion, CLASSES, defaultPreprocessSpec, NUM_CLASSES } from '@fer/shared';
import {
  buildBackbone,
  countParameters,
  headLayerName,
  importWeightsFile,
  resolveBackbone,
} from '../backbones';
import { resolveTeacher, teacherTargets, withTeacherSplit } from '../distill/teacher';
import { fitCalibration, predictCalibrated, type FittedCalibration } from '../calibration/fit-calibration';
import { formatMetrics } from '../metrics/format-metrics';
import { probabilityMetrics } from '../metrics/probability-metrics';
import type { JobContext, TrainResult } from './job-context';
import { cacheSplit, cacheTestSplit, splitDataset } from './run-data';
import { openRunFolder } from './run-folder';
import { publishTrainedVersion } from './trained-version';
import { loadBestWeights, trainLoop } from './train-loop';
import type { TrainOptions } from './train-options';

export type { JobContext, TrainResult } from './job-context';
export { loopConfig, runIdentity } from './run-folder';

/**
 * Trains, evaluates, exports and publishes one backbone. The TF.js backend must be selected.
 *
 * @example const result = await trainOne(options, 'resnet152', ctx); // result.version, result.metrics
 * @throws DatasetError for dataset problems, TrainingAbortedError when ctx.signal aborts,
 *         IncompatibleVersionError (before any work) when the registry's versions of the name read
 *         their input otherwise.
 */
export async function trainOne(
  requested: TrainOptions,
  backbone: string,
  ctx: JobContext,
): Promise<TrainResult> {
  const { log } = ctx;
  // A student holds out its teacher's validation images.
  const teacher = requested.teacher ? await resolveTeacher(requested.teacher) : null;
  const options = teacher ? withTeacherSplit(requested, teacher) : requested;
  const config = resolveBackbone(backbone);
  const name = options.name ?? config.name;
  const spec = defaultPreprocessSpec(options.inputSize);
  const jobStarted = performance.now();
  // publish() refuses a version that reads its input unlike the name's others: say so now, not after training.
  await assertCompatibleVersion(options.registry, name, spec);

  const data = await splitDataset(options, teacher, ctx);
  const run = await openRunFolder(options, config, name, data.fingerprint, teacher);
  if (run.published) {
    log.info({ name: run.published.name, version: run.published.version }, 'this run was already published');
    return run.published;
  }
  log.info({ runDir: run.dir, backbone: config.name, name, loop: run.loop }, 'run folder');

  const train = await cacheSplit(data.dataset.trainSplit, data.split.train, spec, options, log);
  const validation = await cacheSplit('validation', data.split.validation, spec, options, log);
  const targets = teacher
    ? await teacherTargets(teacher, data.split, train.set.ids, options.distillTemperature, {
        cacheDir: path.join(path.dirname(options.runsDir), 'teacher-cache'),
        batchSize: 64,
        onBadImage: options.onBadImage,
        log,
      })
    : undefined;

  const model = buildBackbone(config, {
    inputSize: options.inputSize,
    numClasses: NUM_CLASSES,
    seed: options.seed,
  });
  let calibration: FittedCalibration | null = null;
  try {
    if (run.pretrained) {
      const report = await importWeightsFile(model, run.pretrained, { headLayer: headLayerName(config) });
      log.info(
        { file: run.pretrained, ...report, ignoredKeys: report.ignoredKeys.length },
        'pretrained weights imported',
      );
    }
    const parameters = countParameters(model);
    log.info({ backbone: config.name, parameters, backend: ctx.backend }, 'model built');

    const state = await trainLoop({
      model,
      headLayer: headLayerName(config),
      train: train.set,
      validation: validation.set,
      ...(targets ? { teacherTargets: targets } : {}),
      spec,
      config: run.loop,
      runDir: run.dir,
      resume: options.resume,
      runIdentity: run.identity,
      log,
      progress: ctx.progress,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    await loadBestWeights(model, run.dir);
    if (options.calibrate) {
      const images = {
        split: 'validation',
        seed: data.splitSeed,
        fraction: options.valFraction,
        set: validation.set,
      } as const;
      calibration = await fitCalibration(model, images, spec, options.evalBatchSize);
      log.info(
        { temperature: calibration.info.temperature, validation: calibration.info.validation },
        'temperature fitted on the validation split',
      );
    }

    // The held-out test split: decoded and used here, once.
    const test = await cacheTestSplit(data, spec, options, log);
    const { probabilities, uncalibrated } = await predictCalibrated(
      model,
      calibration,
      test.set,
      spec,
      options.evalBatchSize,
    );
    const testSplit = data.dataset.testSplit;
    const metrics = probabilityMetrics(probabilities, test.set.labels, CLASSES, testSplit);
    log.info(
      { accuracy: metrics.accuracy, macro_f1: metrics.macro_f1, samples: metrics.samples },
      'test metrics',
    );
    ctx.print(`${name} on the test split\n${formatMetrics(metrics)}`);

    const result = await publishTrainedVersion(
      {
        name,
        config,
        parameters,
        spec,
        options,
        run,
        data,
        teacher,
        state,
        decoded: { train, validation, test },
        // What is published: the trained network, with the temperature layer when there is one.
        served: calibration?.model ?? model,
        test: { split: testSplit, labels: test.set.labels, probabilities, metrics, before: uncalibrated },
        calibration,
      },
      ctx,
    );
    log.info(
      {
        name,
        version: result.version,
        dir: result.dir,
        jobSeconds: (performance.now() - jobStarted) / 1000,
      },
      'published',
    );
    return result;
  } finally {
    calibration?.model.dispose();
    model.dispose();
  }
}
