/**
 * A finished run -> its published version: the served model staged and checked (release/), the
 * training curves beside the test charts, report.md with the run's facts, metadata.json with the
 * `training` block (dataset, recipe, optimizer and schedule, pretrained weights, teacher), and
 * the publish, recorded in the run folder.
 */
import { createHash } from 'node:crypto';
import { copyFile, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { PreprocessSpec, TrainingInfo } from '@fer/shared';
import type { BackboneConfig } from '../backbones';
import type { Teacher } from '../distill/teacher';
import { curvesSpec } from '../report/curves-chart';
import { EPOCH_LOG_FILE } from '../report/epoch-log';
import { writeChart } from '../report/render-chart';
import { renderReport, type RunFacts } from '../report/report-markdown';
import { publishVersion, versionMetadata } from '../release/publish-version';
import { stageVersion } from '../release/stage-version';
import { writeTestReport, type CalibrationFit, type TestAnswers } from '../release/test-report';
import type { JobContext, TrainResult } from './job-context';
import { oneCycleConfig } from './one-cycle';
import { recordPublished, type RunFolder } from './run-folder';
import type { DecodedSplit, RunData } from './run-data';
import type { LoopState } from './train-loop';
import type { TrainOptions } from './train-options';

/** Where a run stages its version, inside its folder; emptied before and after publishing. */
const STAGING_DIR = 'version';

/** Everything a finished run knows that its version records. */
export interface FinishedRun {
  name: string;
  config: BackboneConfig;
  parameters: number;
  spec: PreprocessSpec;
  options: TrainOptions;
  run: RunFolder;
  data: RunData;
  teacher: Teacher | null;
  state: LoopState;
  decoded: { train: DecodedSplit; validation: DecodedSplit; test: DecodedSplit };
  /** The model that is published: the trained network, with its temperature layer when calibrated. */
  served: tf.LayersModel;
  test: TestAnswers;
  calibration: CalibrationFit | null;
}

function totalImagesPerSecond(state: LoopState, trainCount: number): number {
  const seconds = state.history.reduce((sum, r) => sum + trainCount / r.images_per_s, 0);
  return seconds > 0 ? (trainCount * state.history.length) / seconds : 0;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  hash.update(await readFile(file));
  return `sha256:${hash.digest('hex').slice(0, 16)}`;
}

/**
 * The optimizer and learning-rate schedule as metadata.json and report.md record them; metadata's
 * optimizer also carries the recipe it has no fields for (label smoothing, augmentation, split...).
 */
function recipeFacts(f: FinishedRun) {
  const { loop } = f.run;
  const { options, teacher } = f;
  const schedule = oneCycleConfig(
    loop.maxLr,
    Math.max(2, loop.epochs * Math.ceil(f.decoded.train.set.count / loop.batchSize)),
  );
  const optimizer = {
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
  const optimizerWithRecipe = {
    ...optimizer,
    label_smoothing: loop.labelSmoothing,
    class_balance: loop.classBalance,
    freeze_epochs: loop.freezeEpochs,
    augmentation: loop.augment,
    validation_fraction: options.valFraction,
    validation_split_seed: f.data.splitSeed,
    max_train_images: options.maxTrainImages,
    max_test_images: options.maxTestImages,
    early_stopping_patience: loop.patience,
    stopped_early: f.state.stoppedEarly,
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
  const lrSchedule = {
    name: 'one-cycle',
    max_lr: schedule.maxLr,
    pct_start: schedule.pctStart,
    div_factor: schedule.divFactor,
    final_div_factor: schedule.finalDivFactor,
    anneal: 'cos',
    total_steps: schedule.totalSteps,
  };
  return { optimizer, optimizerWithRecipe, lrSchedule };
}

type Recipe = ReturnType<typeof recipeFacts>;

/** metadata.json's `training` block. */
async function trainingInfo(f: FinishedRun, ctx: JobContext, recipe: Recipe): Promise<TrainingInfo> {
  const { loop, pretrained } = f.run;
  const { dataset, fingerprint, counts } = f.data;
  const bestEpoch = f.state.early.bestEpoch;
  return {
    dataset: { format: dataset.format, fingerprint, counts },
    epochs: f.state.completedEpochs,
    ...(bestEpoch !== null ? { best_epoch: bestEpoch } : {}),
    batch_size: loop.batchSize,
    optimizer: recipe.optimizerWithRecipe,
    lr_schedule: recipe.lrSchedule,
    seed: loop.seed,
    backend: ctx.backend,
    duration_s: f.state.trainSeconds,
    pretrained: pretrained ? `${path.basename(pretrained)} (${await sha256Of(pretrained)})` : null,
    ...(ctx.command ? { command: ctx.command } : {}),
  };
}

/** report.md's facts, but for what the publish adds (version number) and the charts. */
function runFacts(
  f: FinishedRun,
  ctx: JobContext,
  createdAt: string,
  trainImagesPerS: number,
  recipe: Recipe,
): Omit<RunFacts, 'onnx' | 'charts' | 'calibration'> {
  const { loop, pretrained } = f.run;
  const { dataset, fingerprint, counts, used } = f.data;
  const { state, decoded } = f;
  return {
    name: f.name,
    version: null,
    backbone: f.config.name,
    family: f.config.family,
    parameters: f.parameters,
    createdAt,
    codeRevision: ctx.codeRevision,
    command: ctx.command,
    backend: ctx.backend,
    inputSize: f.spec.input_size,
    dataset: {
      format: dataset.format,
      root: dataset.root,
      fingerprint,
      counts,
      used,
      skipped: {
        train: decoded.train.skipped,
        validation: decoded.validation.skipped,
        test: decoded.test.skipped,
      },
      ignored: dataset.ignored,
    },
    training: {
      epochsPlanned: loop.epochs,
      epochsRun: state.completedEpochs,
      bestEpoch: state.early.bestEpoch,
      stoppedEarly: state.stoppedEarly,
      batchSize: loop.batchSize,
      optimizer: recipe.optimizer,
      schedule: recipe.lrSchedule,
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
    history: state.history,
    test: f.test.metrics,
  };
}

/**
 * Stages, reports and publishes a finished run; records the result in the run folder.
 *
 * @example const result = await publishTrainedVersion({ name, config, ..., served, test, calibration }, ctx);
 * @throws Error when the ONNX export fails its parity check; IncompatibleVersionError.
 */
export async function publishTrainedVersion(f: FinishedRun, ctx: JobContext): Promise<TrainResult> {
  const { run, state } = f;
  const staging = path.join(run.dir, STAGING_DIR);
  await rm(staging, { recursive: true, force: true });
  const staged = await stageVersion(f.served, staging, { set: f.decoded.test.set, spec: f.spec }, ctx.log);

  const label = f.name === f.config.name ? f.name : `${f.name} (${f.config.name})`;
  const [curves] = await writeChart(curvesSpec(state.history, label), staged.reportDir, 'curves');
  const { confusionChart, calibration } = await writeTestReport(
    staged.reportDir,
    label,
    f.test,
    f.calibration,
  );
  const trainImagesPerS = totalImagesPerSecond(state, f.decoded.train.set.count);
  const createdAt = new Date().toISOString();
  const recipe = recipeFacts(f);
  const report = renderReport({
    ...runFacts(f, ctx, createdAt, trainImagesPerS, recipe),
    onnx: staged.onnx,
    charts: { curves, confusion: confusionChart },
    calibration,
  });
  await copyFile(path.join(run.dir, EPOCH_LOG_FILE), path.join(staged.reportDir, EPOCH_LOG_FILE));

  const metadata = versionMetadata(
    {
      createdAt,
      spec: f.spec,
      metrics: f.test.metrics,
      staged,
      codeRevision: ctx.codeRevision,
      calibration: f.calibration?.info ?? null,
    },
    {
      architecture: { family: f.config.family, config: f.config.name, parameters: f.parameters },
      training: await trainingInfo(f, ctx, recipe),
    },
  );
  const version = await publishVersion({
    registry: f.options.registry,
    name: f.name,
    staged,
    report,
    metrics: f.test.metrics,
    metadata,
  });
  const result: TrainResult = {
    name: f.name,
    version: version.version,
    dir: version.dir,
    backbone: f.config.name,
    parameters: f.parameters,
    metrics: f.test.metrics,
    epochsRun: state.completedEpochs,
    bestEpoch: state.early.bestEpoch,
    trainingSeconds: state.trainSeconds,
    trainImagesPerS,
    modelBytes: staged.onnx.bytes,
    latencyMsPerImage: staged.onnx.latencyMsPerImage,
    runDir: run.dir,
  };
  await recordPublished(run.dir, result);
  await rm(staging, { recursive: true, force: true });
  return result;
}
