import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { defaultPreprocessSpec, NUM_CLASSES } from '@fer/shared';
import { buildBackbone } from '../../src/backbones';
import { selectTrainingBackend } from '../../src/backend';
import { defaultAugment } from '../../src/data/augment';
import type { Sample } from '../../src/data/dataset-types';
import { cachePixels, type PixelSet } from '../../src/data/pixel-cache';
import { Rng } from '../../src/data/rng';
import { DEFAULT_ADAMW } from '../../src/train/adamw';
import { EPOCH_LOG_FILE, type EpochRecord } from '../../src/report/epoch-log';
import { silentLogger } from '../../src/train/logger';
import { NO_PROGRESS, type ProgressFactory } from '../../src/train/progress';
import {
  loadBestWeights,
  trainLoop,
  TrainingAbortedError,
  type LoopConfig,
  type LoopInput,
} from '../../src/train/train-loop';
import { drawPattern } from '../helpers/synthetic-dataset';

const INPUT_SIZE = 32;
const spec = defaultPreprocessSpec(INPUT_SIZE);
const TIMEOUT_MS = 60_000;

const config: LoopConfig = {
  epochs: 3,
  batchSize: 16,
  maxLr: 3e-3,
  freezeEpochs: 1,
  patience: 0,
  labelSmoothing: 0.05,
  classBalance: 'weighted-loss',
  optimizer: DEFAULT_ADAMW,
  augment: defaultAugment(INPUT_SIZE),
  seed: 11,
  evalBatchSize: 64,
  microBatch: null,
};

async function patterns(perClass: number, stream: string): Promise<PixelSet> {
  const samples: Sample[] = [];
  for (let label = 0; label < NUM_CLASSES; label++) {
    const rng = Rng.derive(3, stream, label);
    for (let i = 0; i < perClass; i++) {
      const data = drawPattern(label, rng);
      samples.push({
        id: `${stream}-${label}-${i}`,
        label,
        source: { kind: 'pixels', width: 48, height: 48, data },
      });
    }
  }
  return (await cachePixels(samples, spec, { onBadImage: 'fail' })).set;
}

let tmp: string;
let train: PixelSet;
let validation: PixelSet;

beforeAll(async () => {
  await selectTrainingBackend();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-loop-'));
  train = await patterns(12, 'train');
  validation = await patterns(4, 'validation');
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function input(runDir: string, overrides: Partial<LoopInput> = {}): LoopInput {
  return {
    model: buildBackbone('resnet-tiny', { inputSize: INPUT_SIZE, numClasses: NUM_CLASSES, seed: 5 }),
    headLayer: 'fc',
    train,
    validation,
    spec,
    config,
    runDir,
    resume: false,
    runIdentity: 'test',
    log: silentLogger(),
    progress: NO_PROGRESS,
    ...overrides,
  };
}

async function weightsOf(model: tf.LayersModel): Promise<Float32Array[]> {
  return Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
}

/** The epoch records without wall-clock fields. */
function deterministic(records: readonly EpochRecord[]): Omit<EpochRecord, 'images_per_s' | 'duration_s'>[] {
  return records.map(({ images_per_s: _speed, duration_s: _duration, ...rest }) => rest);
}

/** A progress "bar" that aborts the run after `batches` batches of epoch `epoch`. */
function killAt(epoch: number, batches: number, controller: AbortController): ProgressFactory {
  return {
    epoch: (label) => ({
      update: (done) => {
        if (label.startsWith(`epoch ${epoch}/`) && done === batches) controller.abort();
      },
      stop: () => undefined,
    }),
  };
}

/** Aborts from a later turn of the event loop, as a SIGINT handler does, after `batches` batches of epoch 1. */
function interruptAt(batches: number, controller: AbortController): ProgressFactory {
  return {
    epoch: () => ({
      update: (done) => {
        if (done === batches) setImmediate(() => controller.abort());
      },
      stop: () => undefined,
    }),
  };
}

describe('trainLoop', () => {
  it(
    'stops within the epoch when the abort arrives from an event-loop callback (Ctrl-C)',
    async () => {
      const controller = new AbortController();
      const run = input(path.join(tmp, 'interrupted'), {
        progress: interruptAt(1, controller),
        signal: controller.signal,
      });
      // Aborted before epoch 1 completed: no epoch is recorded.
      await expect(trainLoop(run)).rejects.toThrow(/checkpoint after epoch 0 /);
      run.model.dispose();
    },
    TIMEOUT_MS,
  );

  it(
    'resumed after a kill mid-epoch ends with exactly the weights and history of an uninterrupted run',
    async () => {
      const straightDir = path.join(tmp, 'straight');
      const straight = input(straightDir);
      const straightState = await trainLoop(straight);
      const expected = await weightsOf(straight.model);

      const resumedDir = path.join(tmp, 'resumed');
      const controller = new AbortController();
      const killed = input(resumedDir, { progress: killAt(2, 3, controller), signal: controller.signal });
      await expect(trainLoop(killed)).rejects.toBeInstanceOf(TrainingAbortedError);
      killed.model.dispose();
      const log = await readFile(path.join(resumedDir, EPOCH_LOG_FILE), 'utf8');
      expect(log.trim().split('\n')).toHaveLength(1);

      // A new process: a freshly built model, continued from the checkpoint of epoch 1.
      const resumed = input(resumedDir, { resume: true });
      const resumedState = await trainLoop(resumed);
      expect(await weightsOf(resumed.model)).toEqual(expected);
      expect(deterministic(resumedState.history)).toEqual(deterministic(straightState.history));
      expect(resumedState.step).toBe(straightState.step);
      expect(resumedState.history.map((r) => r.phase)).toEqual(['head', 'full', 'full']);

      await loadBestWeights(resumed.model, resumedDir);
      await loadBestWeights(straight.model, straightDir);
      expect(await weightsOf(resumed.model)).toEqual(await weightsOf(straight.model));
      const jsonl = (await readFile(path.join(resumedDir, EPOCH_LOG_FILE), 'utf8')).trim().split('\n');
      expect(jsonl.map((line) => (JSON.parse(line) as EpochRecord).epoch)).toEqual([1, 2, 3]);
      resumed.model.dispose();
      straight.model.dispose();
    },
    TIMEOUT_MS,
  );

  it(
    'learns the synthetic shapes well above chance and trains only the head while frozen',
    async () => {
      const run = input(path.join(tmp, 'frozen'), { config: { ...config, epochs: 1 } });
      const stem = run.model.getLayer('conv1').getWeights()[0];
      const before = await stem.data();
      const state = await trainLoop(run);
      expect(await run.model.getLayer('conv1').getWeights()[0].data()).toEqual(before); // head-only epoch
      expect(state.history[0].phase).toBe('head');
      run.model.dispose();

      const full = input(path.join(tmp, 'full'), { config: { ...config, epochs: 4, freezeEpochs: 0 } });
      const tensorsBefore = tf.memory().numTensors;
      const learned = await trainLoop(full);
      expect(tf.memory().numTensors).toBe(tensorsBefore); // no tensor leaks from steps, validation or the optimizer
      expect(Math.max(...learned.history.map((r) => r.val_accuracy))).toBeGreaterThan(0.5); // chance: 1/6
      full.model.dispose();
    },
    TIMEOUT_MS,
  );

  it('refuses to resume a checkpoint of a different run', async () => {
    const dir = path.join(tmp, 'other');
    const first = input(dir, { config: { ...config, epochs: 1 } });
    await trainLoop(first);
    first.model.dispose();
    const other = input(dir, { config: { ...config, epochs: 1, seed: 12 }, resume: true });
    await expect(trainLoop(other)).rejects.toThrow(/belongs to a run with other options/);
    other.model.dispose();
  });
});
