// Distillation on the tiny synthetic dataset, through the real training loop: the student's loss
// goes down, and it ends closer to its teacher than the same student trained on the hard labels.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { defaultPreprocessSpec, NUM_CLASSES } from '@fer/shared';
import { buildBackbone } from '../../src/backbones';
import { selectTrainingBackend } from '../../src/backend';
import { distillationLoss } from '../../src/distill/distillation-loss';
import { softTargets } from '../../src/distill/teacher-targets';
import type { Sample } from '../../src/data/dataset-types';
import { cachePixels, type PixelSet } from '../../src/data/pixel-cache';
import { Rng } from '../../src/data/rng';
import { DEFAULT_ADAMW } from '../../src/train/adamw';
import { silentLogger } from '../../src/train/logger';
import { predictSet } from '../../src/train/predict';
import { NO_PROGRESS } from '../../src/train/progress';
import { loadBestWeights, trainLoop, type LoopConfig } from '../../src/train/train-loop';
import { drawPattern } from '../helpers/synthetic-dataset';

const INPUT_SIZE = 32;
const spec = defaultPreprocessSpec(INPUT_SIZE);
const TIMEOUT_MS = 120_000;
const TOLERANCE = 1e-5;

const config: LoopConfig = {
  epochs: 4,
  batchSize: 16,
  maxLr: 3e-3,
  freezeEpochs: 0,
  patience: 0,
  labelSmoothing: 0,
  classBalance: 'none',
  optimizer: DEFAULT_ADAMW,
  augment: null,
  seed: 11,
  evalBatchSize: 64,
  microBatch: null,
};

async function patterns(perClass: number, stream: string): Promise<PixelSet> {
  const samples: Sample[] = [];
  for (let label = 0; label < NUM_CLASSES; label++) {
    const rng = Rng.derive(4, stream, label);
    for (let i = 0; i < perClass; i++) {
      samples.push({
        id: `${stream}-${label}-${i}`,
        label,
        source: { kind: 'pixels', width: 48, height: 48, data: drawPattern(label, rng) },
      });
    }
  }
  return (await cachePixels(samples, spec, { onBadImage: 'fail' })).set;
}

/** Mean KL(teacher || student) over the rows of two [n, k] probability matrices. */
function meanKl(teacher: Float32Array, student: Float32Array): number {
  let total = 0;
  for (let i = 0; i < teacher.length; i++) {
    if (teacher[i] > 0) total += teacher[i] * Math.log(teacher[i] / Math.max(student[i], 1e-30));
  }
  return total / (teacher.length / NUM_CLASSES);
}

let tmp: string;
let train: PixelSet;
let validation: PixelSet;

beforeAll(async () => {
  await selectTrainingBackend();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-distill-'));
  train = await patterns(16, 'train');
  validation = await patterns(6, 'validation');
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Trains `backbone` with the loop and returns its probabilities on the validation set and history. */
async function trained(
  backbone: string,
  runDir: string,
  loop: LoopConfig,
  teacherTargets?: Float32Array,
): Promise<{ validation: Float32Array; train: Float32Array; losses: number[] }> {
  const model = buildBackbone(backbone, { inputSize: INPUT_SIZE, numClasses: NUM_CLASSES, seed: 5 });
  try {
    const state = await trainLoop({
      model,
      headLayer: backbone.startsWith('densenet') ? 'classifier' : 'fc',
      train,
      validation,
      ...(teacherTargets ? { teacherTargets } : {}),
      spec,
      config: loop,
      runDir: path.join(tmp, runDir),
      resume: false,
      runIdentity: runDir,
      log: silentLogger(),
      progress: NO_PROGRESS,
    });
    await loadBestWeights(model, path.join(tmp, runDir));
    return {
      validation: await predictSet(model, validation, spec, 64),
      train: await predictSet(model, train, spec, 64),
      losses: state.history.map((r) => r.train_loss),
    };
  } finally {
    model.dispose();
  }
}

describe('distillation', () => {
  it(
    'lowers the student’s loss and brings it closer to the teacher than the hard labels alone',
    async () => {
      // The teacher: another architecture, trained longer; its soft answers are what to match.
      const teacher = await trained('densenet-tiny', 'teacher', {
        ...config,
        epochs: 8,
        labelSmoothing: 0.1,
      });
      const targets = softTargets({ ids: train.ids, probabilities: teacher.train }, train.ids, 2);
      const distilled = await trained(
        'resnet-tiny',
        'distilled',
        { ...config, distillation: { temperature: 2, alpha: 0.9 } },
        targets,
      );
      const plain = await trained('resnet-tiny', 'plain', config);

      expect(distilled.losses[distilled.losses.length - 1]).toBeLessThan(distilled.losses[0]);
      const klDistilled = meanKl(teacher.validation, distilled.validation);
      const klPlain = meanKl(teacher.validation, plain.validation);
      console.log(
        `KL(teacher || student) on validation: distilled ${klDistilled.toFixed(4)}, hard labels ${klPlain.toFixed(4)}`,
      );
      expect(klDistilled).toBeLessThan(klPlain);
    },
    TIMEOUT_MS,
  );

  it('is the plain cross-entropy at alpha 0 and the softened KL at alpha 1 (worked values)', () => {
    const logits = tf.tensor2d([[2, 0, -1]]);
    const labels = tf.tensor1d([0], 'int32');
    const targets = tf.tensor2d([[0.5, 0.3, 0.2]]);
    const hard = { labelSmoothing: 0, classWeights: null };
    const z = [2, 0, -1];
    const lse = (v: number[]) => Math.log(v.reduce((s, x) => s + Math.exp(x), 0));
    const atZero = distillationLoss(logits, labels, targets, hard, { temperature: 2, alpha: 0 });
    expect(Math.abs(atZero.dataSync()[0] - (lse(z) - 2))).toBeLessThan(TOLERANCE);
    // alpha 1, tau 2: 4 * sum t (ln t - (z/2 - lse(z/2)))
    const half = z.map((v) => v / 2);
    const kl = [0.5, 0.3, 0.2].reduce((s, t, c) => s + t * (Math.log(t) - (half[c] - lse(half))), 0);
    const atOne = distillationLoss(logits, labels, targets, hard, { temperature: 2, alpha: 1 });
    expect(Math.abs(atOne.dataSync()[0] - 4 * kl)).toBeLessThan(TOLERANCE);
    tf.dispose([logits, labels, targets, atZero, atOne]);
  });

  it('softens the teacher’s answers as p^(1/T) renormalised, lined up by image id', () => {
    const answers = {
      ids: ['a', 'b'],
      probabilities: Float32Array.from([0.6, 0.2, 0.1, 0.05, 0.03, 0.02, 1, 0, 0, 0, 0, 0]),
    };
    const got = softTargets(answers, ['b', 'a'], 2);
    // A zero stays (all but) zero: its log is clamped at float32's smallest normal number.
    [1, 0, 0, 0, 0, 0].forEach((v, c) => expect(Math.abs(got[c] - v)).toBeLessThan(1e-12));
    const roots = [0.6, 0.2, 0.1, 0.05, 0.03, 0.02].map(Math.sqrt);
    const sum = roots.reduce((a, b) => a + b, 0);
    roots.forEach((r, c) => expect(Math.abs(got[6 + c] - r / sum)).toBeLessThan(TOLERANCE));
    expect(() => softTargets(answers, ['c'], 2)).toThrow(/no answer for training image c/);
  });
});
