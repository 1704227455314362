/**
 * The epoch loop: seeded batches (shuffle or class-balanced sampling, augmentation), one AdamW
 * step per batch on the one-cycle schedule, validation after every epoch, best-by-validation
 * weights, early stopping, and a checkpoint after every epoch from which `resume` continues
 * exactly (every random draw of an epoch derives from the seed and the epoch number, so a
 * resumed epoch replays what the interrupted one would have done).
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import { CLASSES, type PreprocessSpec } from '@fer/shared';
import type { AugmentConfig } from '../data/augment';
import { batchRanges, buildBatch } from '../data/batches';
import { classWeights, epochOrder, type ClassBalanceMode } from '../data/class-balance';
import type { PixelSet } from '../data/pixel-cache';
import { Rng } from '../data/rng';
import { argmaxRows, classificationMetrics } from '../metrics/classification';
import { appendEpoch, EPOCH_LOG_FILE, writeEpochLog, type EpochRecord } from '../report/epoch-log';
import type { DistillationOptions } from '../distill/distillation-loss';
import { AdamW, type AdamWConfig } from './adamw';
import { loadCheckpoint, saveCheckpoint } from './checkpoint';
import { INITIAL_EARLY_STOPPING, observeEpoch, type EarlyStoppingState } from './early-stopping';
import type { Logger } from './logger';
import { oneCycleAt, oneCycleConfig } from './one-cycle';
import { meanCrossEntropy, predictSet } from './predict';
import type { ProgressFactory } from './progress';
import { trainStep, type StepContext } from './train-step';

/** Adam's beta1 when the schedule does not cycle it. */
const DEFAULT_BETA1 = 0.9;

export interface LoopConfig {
  epochs: number;
  batchSize: number;
  /** Peak learning rate of the one-cycle schedule. */
  maxLr: number;
  /** Epochs that train only the head before the whole network. */
  freezeEpochs: number;
  /** Epochs without a better validation accuracy before stopping; 0 never stops early. */
  patience: number;
  labelSmoothing: number;
  classBalance: ClassBalanceMode;
  optimizer: AdamWConfig;
  /** null: no augmentation. */
  augment: AugmentConfig | null;
  seed: number;
  /** Batch size for validation inference (no gradients, so it can be larger). */
  evalBatchSize: number;
  /** Accumulate gradients over micro-batches of this size (null: whole batches). */
  microBatch: number | null;
  /**
   * Learn from a teacher's softened answers too (LoopInput.teacherTargets). Absent, not null, in
   * plain runs, so their run keys (and --resume) are those of runs from before distillation.
   */
  distillation?: DistillationOptions;
}

/** What a checkpoint stores besides the arrays. */
export interface LoopState {
  /** Hash of everything that shapes the run; a checkpoint only resumes the same run. */
  runKey: string;
  completedEpochs: number;
  /** Optimizer steps taken so far (the schedule's position). */
  step: number;
  history: EpochRecord[];
  early: EarlyStoppingState;
  stoppedEarly: boolean;
  /** Seconds spent in epochs (training + validation), summed over interrupted sessions. */
  trainSeconds: number;
}

export interface LoopInput {
  /** The full model (softmax output); its weights are trained in place. */
  model: tf.LayersModel;
  /** Name of the head's linear layer; its output is the logits. */
  headLayer: string;
  train: PixelSet;
  validation: PixelSet;
  /** With config.distillation: the teacher's softened probabilities of `train`, [train.count, classes]. */
  teacherTargets?: Float32Array;
  spec: PreprocessSpec;
  config: LoopConfig;
  /** Folder for checkpoint/, best/ and epochs.jsonl. */
  runDir: string;
  /** Continue from the checkpoint in runDir (fresh start when there is none). */
  resume: boolean;
  /** Extra identity folded into the run key (dataset fingerprint, backbone, ...). */
  runIdentity: string;
  log: Logger;
  progress: ProgressFactory;
  /** Aborting stops between two batches; the last complete epoch's checkpoint remains. */
  signal?: AbortSignal;
}

export const CHECKPOINT_DIR = 'checkpoint';
export const BEST_DIR = 'best';

export class TrainingAbortedError extends Error {
  constructor(completedEpochs: number) {
    super(`training aborted; the checkpoint after epoch ${completedEpochs} can be resumed with --resume`);
    this.name = 'TrainingAbortedError';
  }
}

/** Rows `indices` of a row-major [n, k] matrix, in that order. */
function rowsOf(matrix: Float32Array, indices: ArrayLike<number>, k: number): Float32Array {
  const out = new Float32Array(indices.length * k);
  for (let r = 0; r < indices.length; r++)
    out.set(matrix.subarray(indices[r] * k, (indices[r] + 1) * k), r * k);
  return out;
}

/** Lets pending callbacks (a signal handler) run; about a microsecond next to a training step. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The run key: identical options + identity give an identical key. */
export function runKey(config: LoopConfig, identity: string): string {
  return createHash('sha256').update(JSON.stringify({ config, identity })).digest('hex').slice(0, 16);
}

async function weightArrays(model: tf.LayersModel): Promise<Float32Array[]> {
  // getWeights() returns the variables themselves: read them, never dispose them.
  return Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
}

function setWeightArrays(model: tf.LayersModel, arrays: Float32Array[]): void {
  const weights = model.weights;
  if (arrays.length !== weights.length) {
    throw new Error(`checkpoint has ${arrays.length} weights, the model has ${weights.length}`);
  }
  const tensors = weights.map((w, i) => tf.tensor(arrays[i], w.shape as number[]));
  model.setWeights(tensors);
  tf.dispose(tensors);
}

/**
 * Loads the best-by-validation weights a loop saved into `model`.
 *
 * @example await loadBestWeights(model, runDir);
 */
export async function loadBestWeights(model: tf.LayersModel, runDir: string): Promise<void> {
  const best = await loadCheckpoint<{ epoch: number }>(path.join(runDir, BEST_DIR));
  if (!best) throw new Error(`no best weights in ${runDir}/${BEST_DIR}`);
  setWeightArrays(model, best.weights);
}

/**
 * Trains until the epochs are done or early stopping triggers, and returns the final state.
 * The best weights are in `<runDir>/best` (see loadBestWeights); the model holds the last epoch's.
 *
 * @example const state = await trainLoop({ model, headLayer: 'fc', train, validation, spec, config, runDir, ... });
 * @throws TrainingAbortedError when `signal` aborts.
 */
export async function trainLoop(input: LoopInput): Promise<LoopState> {
  const { model, config, train, validation, spec, log } = input;
  const key = runKey(config, input.runIdentity);
  const targets = config.distillation ? input.teacherTargets : undefined;
  if (config.distillation && targets?.length !== train.count * CLASSES.length)
    throw new RangeError(
      `distillation needs ${train.count} x ${CLASSES.length} teacher targets, got ${targets?.length ?? 0}`,
    );
  const logitsModel = tf.model({
    inputs: model.inputs,
    outputs: model.getLayer(input.headLayer).output as tf.SymbolicTensor,
  });
  const headWeights = new Set(model.getLayer(input.headLayer).trainableWeights);
  const weightIndex = new Map(model.weights.map((w, i) => [w, i]));
  const shapes = new Map(model.weights.map((w, i) => [i, w.shape as number[]]));
  const optimizer = new AdamW(config.optimizer);
  const checkpointDir = path.join(input.runDir, CHECKPOINT_DIR);
  const epochLog = path.join(input.runDir, EPOCH_LOG_FILE);

  let state: LoopState = {
    runKey: key,
    completedEpochs: 0,
    step: 0,
    history: [],
    early: INITIAL_EARLY_STOPPING,
    stoppedEarly: false,
    trainSeconds: 0,
  };
  const checkpoint = input.resume ? await loadCheckpoint<LoopState>(checkpointDir) : null;
  if (checkpoint) {
    if (checkpoint.state.runKey !== key) {
      throw new Error(
        `the checkpoint in ${checkpointDir} belongs to a run with other options or data; ` +
          'rerun without --resume to start over',
      );
    }
    setWeightArrays(model, checkpoint.weights);
    optimizer.importState(checkpoint.optimizer ?? new Map(), shapes);
    state = checkpoint.state;
    log.info({ completedEpochs: state.completedEpochs, step: state.step }, 'resuming from checkpoint');
  } else if (input.resume) {
    log.warn({ checkpointDir }, 'no checkpoint to resume from; starting from the first epoch');
  }
  await mkdir(input.runDir, { recursive: true });
  await writeEpochLog(epochLog, state.history);

  const stepsPerEpoch = Math.ceil(train.count / config.batchSize);
  const schedule = oneCycleConfig(config.maxLr, Math.max(2, config.epochs * stepsPerEpoch));
  const weights = config.classBalance === 'weighted-loss' ? classWeights(train.labels, CLASSES.length) : null;
  const lossOptions = { labelSmoothing: config.labelSmoothing, classWeights: weights };

  const stepContext = (phase: 'head' | 'full'): StepContext => {
    const trainable = model.trainableWeights.filter((w) => phase === 'full' || headWeights.has(w));
    return {
      logitsModel,
      variables: trainable.map((w) => w.read() as tf.Variable),
      keys: trainable.map((w) => weightIndex.get(w)!),
      optimizer,
      loss: lossOptions,
      ...(config.distillation ? { distillation: config.distillation } : {}),
      microBatch: config.microBatch,
      inputSize: train.size,
    };
  };

  // Epoch time of this session, for the time left (a resumed run's earlier epochs ran elsewhere).
  let sessionSeconds = 0;
  let sessionEpochs = 0;
  for (let epoch = state.completedEpochs + 1; epoch <= config.epochs && !state.stoppedEarly; epoch++) {
    const phase: 'head' | 'full' = epoch <= config.freezeEpochs ? 'head' : 'full';
    const started = performance.now();
    const order = epochOrder(train.labels, config.classBalance, Rng.derive(config.seed, 'order', epoch));
    const augmentation = config.augment
      ? { config: config.augment, rng: Rng.derive(config.seed, 'augment', epoch) }
      : undefined;
    const ranges = batchRanges(order.length, config.batchSize);
    const context = stepContext(phase);
    const bar = input.progress.epoch(`epoch ${epoch}/${config.epochs}`, ranges.length);
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    let computeSeconds = 0;
    let trainElapsed: number;
    let logits: Float32Array;
    try {
      for (const [k, [start, end]] of ranges.entries()) {
        // A step is synchronous: without a turn of the event loop between steps, Ctrl-C's handler
        // (which aborts the signal) would not run before the epoch ends.
        if (input.signal) await yieldToEventLoop();
        if (input.signal?.aborted) throw new TrainingAbortedError(state.completedEpochs);
        const batch = buildBatch(train, order.subarray(start, end), spec, augmentation);
        const t0 = performance.now();
        const { lr, beta1 } = oneCycleAt(schedule, state.step);
        const outcome = trainStep(
          context,
          batch,
          { lr, beta1: beta1 ?? DEFAULT_BETA1 },
          targets ? rowsOf(targets, order.subarray(start, end), CLASSES.length) : undefined,
        );
        state.step++;
        computeSeconds += (performance.now() - t0) / 1000;
        lossSum += outcome.loss * batch.n;
        correct += outcome.correct;
        seen += batch.n;
        bar.update(k + 1, {
          loss: lossSum / seen,
          accuracy: correct / seen,
          imagesPerSecond: seen / ((performance.now() - started) / 1000),
        });
      }
      trainElapsed = (performance.now() - started) / 1000;
      bar.validating?.();
      logits = await predictSet(logitsModel, validation, spec, config.evalBatchSize);
    } finally {
      bar.stop();
    }
    const valMetrics = classificationMetrics(
      validation.labels,
      argmaxRows(logits, CLASSES.length),
      CLASSES,
      'validation',
    );
    const update = observeEpoch(state.early, epoch, valMetrics.accuracy, config.patience);
    const duration = (performance.now() - started) / 1000;
    const record: EpochRecord = {
      epoch,
      phase,
      lr: oneCycleAt(schedule, Math.max(0, state.step - 1)).lr,
      train_loss: lossSum / seen,
      train_accuracy: correct / seen,
      val_loss: meanCrossEntropy(logits, validation.labels, CLASSES.length),
      val_accuracy: valMetrics.accuracy,
      val_macro_f1: valMetrics.macro_f1,
      images_per_s: seen / trainElapsed,
      duration_s: duration,
      best: update.improved,
    };
    if (update.improved) {
      await saveCheckpoint(path.join(input.runDir, BEST_DIR), {
        state: { epoch },
        weights: await weightArrays(model),
      });
    }
    state = {
      ...state,
      completedEpochs: epoch,
      history: [...state.history, record],
      early: update.state,
      stoppedEarly: update.stop,
      trainSeconds: state.trainSeconds + duration,
    };
    await saveCheckpoint(checkpointDir, {
      state,
      weights: await weightArrays(model),
      optimizer: await optimizer.exportState(),
    });
    await appendEpoch(epochLog, record);
    log.info({ ...record, compute_images_per_s: seen / computeSeconds }, 'epoch done');
    sessionSeconds += duration;
    sessionEpochs++;
    input.progress.epochDone?.({
      epoch,
      epochs: config.epochs,
      trainLoss: record.train_loss,
      trainAccuracy: record.train_accuracy,
      valAccuracy: record.val_accuracy,
      imagesPerSecond: record.images_per_s,
      etaSeconds: (config.epochs - epoch) * (sessionSeconds / sessionEpochs),
      best: record.best,
    });
    if (update.stop) {
      log.info(
        { epoch, bestEpoch: update.state.bestEpoch, patience: config.patience },
        'early stopping: validation accuracy stopped improving',
      );
    }
  }
  optimizer.dispose();
  return state;
}
