/**
 * One backbone, end to end (DESIGN §2): dataset -> counts -> stratified train/validation split ->
 * cached pixels -> epochs (train-loop.ts) -> best weights -> a temperature fitted on the validation
 * split and baked into the graph (calibration/) -> the test split, once -> report -> tfjs/ +
 * model.onnx -> atomic publish of a new version with complete metadata.
 *
 * A run lives in its own folder (checkpoints, epoch log, staging); `resume` continues it,
 * including a run that finished training but was interrupted before it published.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  assertCompatibleVersion,
  CLASSES,
  defaultPreprocessSpec,
  NUM_CLASSES,
  ONNX_FILE,
  publish,
  REPORT_DIR,
  TFJS_DIR,
  type MetadataDraft,
  type ModelMetrics,
  type PreprocessSpec,
} from '@fer/shared';
import { saveLayersModel } from '@fer/shared/tfjs';
import {
  buildBackbone,
  countParameters,
  headLayerName,
  importWeightsFile,
  resolveBackbone,
} from '../backbones';
import { defaultAugment } from '../data/augment';
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
import {
  assertTeacherDataset,
  resolveTeacher,
  teacherTargets,
  withTeacherSplit,
  type Teacher,
} from '../distill/teacher';
import { fitCalibration, predictCalibrated, type FittedCalibration } from '../calibration/fit-calibration';
import { OnnxClassifier } from '../release/onnx-classifier';
import { writeOnnxModel } from '../export/onnx';
import { maxAbsDiff, ONNX_PARITY_TOLERANCE, parityBatch } from '../release/parity';
import { formatMetrics } from '../metrics/format-metrics';
import { probabilityMetrics } from '../metrics/probability-metrics';
import { confusionSpec } from '../report/confusion-chart';
import { curvesSpec } from '../report/curves-chart';
import { calibrationSeries, reliabilitySpec } from '../report/reliability-chart';
import { writeChart } from '../report/render-chart';
import { EPOCH_LOG_FILE } from '../report/epoch-log';
import { renderReport, type RunFacts } from '../report/report-markdown';
import { DEFAULT_ADAMW } from './adamw';
import { loadBestWeights, runKey, trainLoop, type LoopConfig, type LoopState } from './train-loop';
import type { Logger } from './logger';
import { oneCycleConfig } from './one-cycle';
import { pretrainedFileFor } from './pretrained-weights';
import type { ProgressFactory } from './progress';
import type { TrainOptions } from './train-options';

const PUBLISHED_FILE = 'published.json';

export interface JobContext {
  log: Logger;
  progress: ProgressFactory;
  /** Human-readable text (count tables, final metrics); the CLI prints it on stderr. */
  print: (text: string) => void;
  /** The TF.js backend in use, as selected by the caller. */
  backend: string;
  command: string | null;
  codeRevision: string | null;
  signal?: AbortSignal;
}

export interface TrainResult {
  name: string;
  version: number;
  dir: string;
  backbone: string;
  parameters: number;
  metrics: ModelMetrics;
  epochsRun: number;
  bestEpoch: number | null;
  trainingSeconds: number;
  trainImagesPerS: number;
  modelBytes: number;
  latencyMsPerImage: number;
  runDir: string;
}

/** The loop configuration the options stand for. */
export function loopConfig(options: TrainOptions): LoopConfig {
  const distillation = options.teacher
    ? { distillation: { temperature: options.distillTemperature, alpha: options.distillAlpha } }
    : {};
  return {
    epochs: options.epochs,
    batchSize: options.batchSize,
    microBatch:
      options.microBatch !== null && options.microBatch < options.batchSize ? options.microBatch : null,
    maxLr: options.lr,
    freezeEpochs: options.freezeEpochs,
    patience: options.patience,
    labelSmoothing: options.labelSmoothing,
    classBalance: options.classBalance,
    optimizer: { ...DEFAULT_ADAMW, weightDecay: options.weightDecay, clipNorm: options.clipNorm },
    augment: options.augment ? defaultAugment(options.inputSize) : null,
    seed: options.seed,
    evalBatchSize: options.evalBatchSize,
    ...distillation,
  };
}

async function fileDigest(file: string): Promise<string> {
  const info = await stat(file);
  return `${path.basename(file)}:${info.size}`;
}

/** Everything besides the loop configuration that makes two runs the same run. */
export async function runIdentity(
  options: TrainOptions,
  backbone: string,
  fingerprint: string,
  pretrained: string | null,
  teacher: Teacher | null,
): Promise<string> {
  return JSON.stringify({
    backbone: resolveBackbone(backbone),
    inputSize: options.inputSize,
    fingerprint,
    valFraction: options.valFraction,
    maxTrainImages: options.maxTrainImages,
    // Only when given, so runs from before the flag keep their folders (and --resume).
    ...(options.splitSeed !== null ? { splitSeed: options.splitSeed } : {}),
    pretrained: pretrained ? await fileDigest(pretrained) : null,
    ...(teacher ? { teacher: teacher.onnxSha256 } : {}),
  });
}

function totalImagesPerSecond(state: LoopState, trainCount: number): number {
  const seconds = state.history.reduce((sum, r) => sum + trainCount / r.images_per_s, 0);
  return seconds > 0 ? (trainCount * state.history.length) / seconds : 0;
}

async function cacheSplit(
  label: string,
  samples: Parameters<typeof cachePixels>[0],
  spec: PreprocessSpec,
  options: TrainOptions,
  log: Logger,
): Promise<{ set: PixelSet; skipped: number }> {
  const t0 = performance.now();
  const { set, skipped } = await cachePixels(samples, spec, { onBadImage: options.onBadImage });
  const seconds = (performance.now() - t0) / 1000;
  log.info({ split: label, images: set.count, skipped: skipped.length, seconds }, 'pixels cached');
  for (const s of skipped.slice(0, 10))
    log.warn({ split: label, image: s.id, reason: s.reason }, 'image skipped');
  return { set, skipped: skipped.length };
}

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

  const dataset = await loadDataset(options.data);
  const counts = datasetCounts(dataset);
  log.info({ format: dataset.format, root: dataset.root, counts, ignored: dataset.ignored }, 'dataset found');
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
  const used: Record<string, Record<string, number>> = {
    train: countByClass(split.train),
    validation: countByClass(split.validation),
  };
  log.info({ train: used.train, validation: used.validation }, 'stratified split');

  const loop = loopConfig(options);
  const pretrained = await pretrainedFileFor(options, config.name);
  const identity = await runIdentity(options, config.name, fingerprint, pretrained, teacher);
  const runDir = path.join(options.runsDir, `${name}-${runKey(loop, identity)}`);
  const published = path.join(runDir, PUBLISHED_FILE);
  if (options.resume) {
    const previous = await readFile(published, 'utf8').then(
      (text) => JSON.parse(text) as TrainResult,
      () => null,
    );
    if (previous) {
      log.info({ name: previous.name, version: previous.version }, 'this run was already published');
      return previous;
    }
  } else {
    await rm(runDir, { recursive: true, force: true });
  }
  await mkdir(runDir, { recursive: true });
  log.info({ runDir, backbone: config.name, name, loop }, 'run folder');

  const trainCache = await cacheSplit(dataset.trainSplit, split.train, spec, options, log);
  const validationCache = await cacheSplit('validation', split.validation, spec, options, log);
  const targets = teacher
    ? await teacherTargets(teacher, split, trainCache.set.ids, options.distillTemperature, {
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
    if (pretrained) {
      const report = await importWeightsFile(model, pretrained, { headLayer: headLayerName(config) });
      log.info(
        { file: pretrained, ...report, ignoredKeys: report.ignoredKeys.length },
        'pretrained weights imported',
      );
    }
    const parameters = countParameters(model);
    log.info({ backbone: config.name, parameters, backend: ctx.backend }, 'model built');

    const state = await trainLoop({
      model,
      headLayer: headLayerName(config),
      train: trainCache.set,
      validation: validationCache.set,
      ...(targets ? { teacherTargets: targets } : {}),
      spec,
      config: loop,
      runDir,
      resume: options.resume,
      runIdentity: identity,
      log,
      progress: ctx.progress,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    await loadBestWeights(model, runDir);
    if (options.calibrate) {
      const images = {
        split: 'validation',
        seed: splitSeed,
        fraction: options.valFraction,
        set: validationCache.set,
      } as const;
      calibration = await fitCalibration(model, images, spec, options.evalBatchSize);
      log.info(
        { temperature: calibration.info.temperature, validation: calibration.info.validation },
        'temperature fitted on the validation split',
      );
    }
    // What is published: the trained network, with the temperature layer when there is one.
    const served = calibration?.model ?? model;

    // The held-out test split: decoded and used here, once.
    let testSamples = requireSplit(dataset, dataset.testSplit);
    if (options.maxTestImages !== null) {
      testSamples = stratifiedSample(
        testSamples,
        options.maxTestImages,
        Rng.derive(options.seed, 'test-subset'),
      );
    }
    const testCache = await cacheSplit(dataset.testSplit, testSamples, spec, options, log);
    used.test = countByClass(testSamples);
    const { probabilities, uncalibrated } = await predictCalibrated(
      model,
      calibration,
      testCache.set,
      spec,
      options.evalBatchSize,
    );
    const metrics = probabilityMetrics(probabilities, testCache.set.labels, CLASSES, dataset.testSplit);
    log.info(
      { accuracy: metrics.accuracy, macro_f1: metrics.macro_f1, samples: metrics.samples },
      'test metrics',
    );
    ctx.print(`${name} on the test split\n${formatMetrics(metrics)}`);

    const staging = path.join(runDir, 'version');
    await rm(staging, { recursive: true, force: true });
    const reportDir = path.join(staging, REPORT_DIR);
    await mkdir(reportDir, { recursive: true });
    await saveLayersModel(served, path.join(staging, TFJS_DIR));
    const onnxFile = path.join(staging, ONNX_FILE);
    const onnx = await writeOnnxModel(served, onnxFile);
    const classifier = await OnnxClassifier.load(onnxFile, spec.input_size, NUM_CLASSES);
    let latency: number;
    try {
      const batch = parityBatch(testCache.set, spec);
      const maxDiff = maxAbsDiff(await classifier.run(batch.x, batch.n), probabilities);
      if (maxDiff > ONNX_PARITY_TOLERANCE) {
        throw new Error(
          `the ONNX export differs from the TF.js model by ${maxDiff} (limit ${ONNX_PARITY_TOLERANCE})`,
        );
      }
      latency = await classifier.latencyMs();
      log.info(
        { parityImages: batch.n, maxProbabilityDiff: maxDiff, latencyMs: latency, ...onnx.stats },
        'ONNX export checked',
      );
    } finally {
      await classifier.dispose();
    }
    const modelBytes = (await stat(onnxFile)).size;

    const history = state.history;
    const bestEpoch = state.early.bestEpoch;
    const label = name === config.name ? name : `${name} (${config.name})`;
    const [curvesSvg] = await writeChart(curvesSpec(history, label), reportDir, 'curves');
    const [confusionSvg] = await writeChart(
      confusionSpec(metrics, `${label} on ${dataset.testSplit}`),
      reportDir,
      'confusion',
    );
    const [reliabilitySvg] = await writeChart(
      reliabilitySpec(
        calibrationSeries(testCache.set.labels, probabilities, uncalibrated, NUM_CLASSES),
        `${label} on ${dataset.testSplit}`,
      ),
      reportDir,
      'reliability',
    );
    const trainImagesPerS = totalImagesPerSecond(state, trainCache.set.count);
    const createdAt = new Date().toISOString();
    const schedule = oneCycleConfig(
      loop.maxLr,
      Math.max(2, loop.epochs * Math.ceil(trainCache.set.count / loop.batchSize)),
    );
    const optimizerCore = {
      name: 'adamw',
      beta1: schedule.momentum
        ? `one-cycle ${schedule.momentum.max} -> ${schedule.momentum.base} -> ${schedule.momentum.max}`
        : 0.9,
      beta2: loop.optimizer.beta2,
      epsilon: loop.optimizer.epsilon,
      weight_decay: loop.optimizer.weightDecay,
      decoupled_weight_decay: true,
      clip_grad_norm: loop.optimizer.clipNorm,
    };
    // metadata.json has no separate fields for these; they are recorded with the optimizer.
    const optimizerInfo = {
      ...optimizerCore,
      label_smoothing: loop.labelSmoothing,
      class_balance: loop.classBalance,
      freeze_epochs: loop.freezeEpochs,
      augmentation: loop.augment,
      validation_fraction: options.valFraction,
      validation_split_seed: splitSeed,
      max_train_images: options.maxTrainImages,
      max_test_images: options.maxTestImages,
      early_stopping_patience: loop.patience,
      stopped_early: state.stoppedEarly,
      ...(teacher
        ? {
            distillation: {
              teacher: `${teacher.name}@${teacher.version}`,
              teacher_onnx_sha256: teacher.onnxSha256,
              temperature: options.distillTemperature,
              alpha: options.distillAlpha,
            },
          }
        : {}),
    };
    const scheduleInfo = {
      name: 'one-cycle',
      max_lr: schedule.maxLr,
      pct_start: schedule.pctStart,
      div_factor: schedule.divFactor,
      final_div_factor: schedule.finalDivFactor,
      anneal: 'cos',
      total_steps: schedule.totalSteps,
    };
    const facts: RunFacts = {
      name,
      version: null,
      backbone: config.name,
      family: config.family,
      parameters,
      createdAt,
      codeRevision: ctx.codeRevision,
      command: ctx.command,
      backend: ctx.backend,
      inputSize: spec.input_size,
      dataset: {
        format: dataset.format,
        root: dataset.root,
        fingerprint,
        counts,
        used,
        skipped: { train: trainCache.skipped, validation: validationCache.skipped, test: testCache.skipped },
        ignored: dataset.ignored,
      },
      training: {
        epochsPlanned: loop.epochs,
        epochsRun: state.completedEpochs,
        bestEpoch,
        stoppedEarly: state.stoppedEarly,
        batchSize: loop.batchSize,
        optimizer: optimizerCore,
        schedule: scheduleInfo,
        augmentation: loop.augment ? { ...loop.augment } : null,
        classBalance: loop.classBalance,
        labelSmoothing: loop.labelSmoothing,
        freezeEpochs: loop.freezeEpochs,
        patience: loop.patience,
        seed: loop.seed,
        pretrained,
        durationS: state.trainSeconds,
        imagesPerS: trainImagesPerS,
      },
      history,
      test: metrics,
      onnx: { bytes: modelBytes, opset: onnx.export.onnx_opset, latencyMsPerImage: latency },
      charts: { curves: curvesSvg, confusion: confusionSvg },
      calibration: {
        info: calibration?.info ?? null,
        validation: calibration?.validation ?? null,
        test: {
          before: uncalibrated
            ? probabilityMetrics(uncalibrated, testCache.set.labels, CLASSES, dataset.testSplit).calibration!
            : null,
          after: metrics.calibration!,
        },
        chart: reliabilitySvg,
      },
    };
    await writeFile(path.join(reportDir, 'report.md'), renderReport(facts));
    await writeFile(path.join(reportDir, 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
    await writeFile(path.join(reportDir, EPOCH_LOG_FILE), await readFile(path.join(runDir, EPOCH_LOG_FILE)));

    const metadata: MetadataDraft = {
      created_at: createdAt,
      classes: [...CLASSES],
      preprocessing: spec,
      architecture: { family: config.family, config: config.name, parameters },
      metrics,
      training: {
        dataset: { format: dataset.format, fingerprint, counts },
        epochs: state.completedEpochs,
        ...(bestEpoch !== null ? { best_epoch: bestEpoch } : {}),
        batch_size: loop.batchSize,
        optimizer: optimizerInfo,
        lr_schedule: scheduleInfo,
        seed: loop.seed,
        backend: ctx.backend,
        duration_s: state.trainSeconds,
        pretrained: pretrained ? `${path.basename(pretrained)} (${await sha256Of(pretrained)})` : null,
        ...(ctx.command ? { command: ctx.command } : {}),
      },
      export: onnx.export,
      code_revision: ctx.codeRevision,
      ...(calibration ? { calibration: calibration.info } : {}),
    };
    const version = await publish({ root: options.registry, name, sourceDir: staging, metadata });
    const result: TrainResult = {
      name,
      version: version.version,
      dir: version.dir,
      backbone: config.name,
      parameters,
      metrics,
      epochsRun: state.completedEpochs,
      bestEpoch,
      trainingSeconds: state.trainSeconds,
      trainImagesPerS,
      modelBytes,
      latencyMsPerImage: latency,
      runDir,
    };
    await writeFile(published, `${JSON.stringify(result, null, 2)}\n`);
    await rm(staging, { recursive: true, force: true });
    log.info(
      {
        name,
        version: version.version,
        dir: version.dir,
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

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  hash.update(await readFile(file));
  return `sha256:${hash.digest('hex').slice(0, 16)}`;
}
