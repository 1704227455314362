/**
 * The options of `npm run train`, their defaults (the study's recipe: 20 epochs, batch 128,
 * one-cycle up to 1e-3, weight decay 1e-2, gradient clipping, 64-px input) and the command-line
 * parsing. Relative paths are resolved against the directory the user ran npm from.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BACKEND_NAMES, isValidModelName, type BackendName } from '@fer/shared';
import { BACKBONE_NAMES, resolveBackbone } from '../backbones';
import { CLASS_BALANCE_MODES, type ClassBalanceMode } from '../data/class-balance';
import type { BadImagePolicy } from '../data/pixel-cache';
import { parsePretrainedArgs } from './pretrained-weights';
import { scratchRegistry } from '../scratch-registry';
import { parseRegistryModelRef, type RegistryModelRef } from '../model-ref';

/** `--backbone all`: the two backbones of the comparative study. */
export const STUDY_BACKBONES = ['resnet152', 'densenet161'] as const;

export interface TrainOptions {
  /** One or more backbone names; more than one also writes a comparison. */
  backbones: string[];
  data: string;
  registry: string;
  /** Registry model name for a single backbone (default: the backbone name). */
  name: string | null;
  epochs: number;
  batchSize: number;
  /** Accumulate gradients over micro-batches of this many images (null: whole batches). */
  microBatch: number | null;
  lr: number;
  inputSize: number;
  /** `--pretrained PATH`: a weights file (one backbone) or a folder of files named by architecture. */
  pretrained: string | null;
  /** `--pretrained NAME=PATH`: the weights file of backbone NAME. */
  pretrainedFor: Readonly<Record<string, string>>;
  freezeEpochs: number;
  valFraction: number;
  seed: number;
  /** Seed of the validation split alone (null: --seed), so ensemble members share one split. */
  splitSeed: number | null;
  resume: boolean;
  patience: number;
  weightDecay: number;
  /** Global gradient-norm limit; null disables clipping. */
  clipNorm: number | null;
  labelSmoothing: number;
  classBalance: ClassBalanceMode;
  augment: boolean;
  /** Fit a temperature on the validation split and bake it into the published graph. */
  calibrate: boolean;
  /** Distil this published model: learn its softened answers too, on its validation split. */
  teacher: RegistryModelRef | null;
  /** Softening temperature of the teacher's answers and the student's logits. */
  distillTemperature: number;
  /** Weight of the teacher's answers in the loss (the hard labels get 1 - alpha). */
  distillAlpha: number;
  onBadImage: BadImagePolicy;
  /** Stratified subset of the training split (smoke runs). */
  maxTrainImages: number | null;
  /** Stratified subset of the test split (smoke runs). */
  maxTestImages: number | null;
  /** Folder for run folders (checkpoints, logs); one per backbone and option set. */
  runsDir: string;
  /** Where `--backbone all` writes comparison.md and its charts. */
  comparisonDir: string | null;
  backend: BackendName | null;
  evalBatchSize: number;
  progress: boolean;
  logLevel: string;
}

export const TRAIN_DEFAULTS = {
  epochs: 20,
  batchSize: 128,
  lr: 1e-3,
  inputSize: 64,
  freezeEpochs: 0,
  valFraction: 0.1,
  seed: 42,
  patience: 5,
  weightDecay: 1e-2,
  clipNorm: 1,
  labelSmoothing: 0,
  classBalance: 'weighted-loss' as ClassBalanceMode,
  onBadImage: 'skip' as BadImagePolicy,
  evalBatchSize: 256,
  distillTemperature: 2,
  distillAlpha: 0.7,
};

export const TRAIN_USAGE = `usage: npm run train -- --backbone NAME|all[,NAME...] --data DIR [options]

  --backbone NAME       resnet152, densenet161, all (= ${STUDY_BACKBONES.join(' + ')}) or a list a,b;
                        known: ${BACKBONE_NAMES.join(', ')}
  --data DIR            Kaggle layout (Training/Training/<Class>), msambare (train/<emotion>) or a FER2013 CSV
  --epochs N            epochs (${TRAIN_DEFAULTS.epochs})
  --batch-size N        images per step (${TRAIN_DEFAULTS.batchSize})
  --micro-batch N       accumulate gradients over micro-batches of N images (less memory; batch-norm
                        statistics then come from N images)
  --lr X                one-cycle peak learning rate (${TRAIN_DEFAULTS.lr})
  --input-size N        model input side in pixels (${TRAIN_DEFAULTS.inputSize})
  --pretrained W        torchvision .pth / .safetensors weights (classifier replaced when shapes differ):
                        FILE for a single backbone; NAME=FILE for backbone NAME (once per backbone);
                        or a folder with a file per backbone named by architecture, as torchvision
                        names them (resnet152-394f9c45.pth, densenet161-8d451a50.pth). Every file is
                        checked against its backbone before the first backbone trains
  --freeze-epochs K     train only the head for K epochs, then everything (${TRAIN_DEFAULTS.freezeEpochs})
  --val-fraction X      stratified validation share of the training split (${TRAIN_DEFAULTS.valFraction})
  --seed N              seed of every random choice (${TRAIN_DEFAULTS.seed})
  --split-seed N        seed of the validation split alone (--seed); runs that share it share
                        their validation images, so their ensemble can be judged on them
  --patience N          early stopping on validation accuracy; 0 = off (${TRAIN_DEFAULTS.patience})
  --weight-decay X      decoupled weight decay (${TRAIN_DEFAULTS.weightDecay})
  --clip-norm X         global gradient-norm limit; 0 = off (${TRAIN_DEFAULTS.clipNorm})
  --label-smoothing X   (${TRAIN_DEFAULTS.labelSmoothing})
  --class-balance M     ${CLASS_BALANCE_MODES.join(' | ')} (${TRAIN_DEFAULTS.classBalance})
  --no-augment          train without augmentation
  --no-calibrate        publish without the temperature fitted on the validation split
  --teacher REF         distil a published model, e.g. models/resnet-small-x3@2: learn its answers
                        (computed once, cached in artifacts/teacher-cache) with the hard labels, on
                        the validation split it held out (--split-seed and --val-fraction follow it)
  --distill-temperature T  softening temperature of the teacher's answers (${TRAIN_DEFAULTS.distillTemperature})
  --distill-alpha A     weight of the teacher's answers in the loss, in [0, 1] (${TRAIN_DEFAULTS.distillAlpha})
  --distill             (npm run distill) require --teacher
  --on-bad-image M      skip | fail (${TRAIN_DEFAULTS.onBadImage})
  --max-train-images N  stratified subset of the training split, for quick runs
  --max-test-images N   stratified subset of the test split, for quick runs
  --registry DIR        where versions are published (artifacts/registry/, a scratch registry;
                        --registry models publishes into the registry npm start serves)
  --name NAME           registry model name, one backbone only (the backbone name)
  --runs-dir DIR        checkpoints and epoch logs (artifacts/runs)
  --comparison-dir DIR  comparison of several backbones (artifacts/comparisons/<time>)
  --resume              continue the interrupted run of the same command
  --backend B           ${BACKEND_NAMES.join(' | ')} (the best available)
  --no-progress         no live progress bar (the line per epoch stays)
  --log-level L         pino level (info)`;

function number(
  value: string | undefined,
  flag: string,
  fallback: number,
  check: (n: number) => boolean,
  what: string,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !check(n))
    throw new Error(`${flag} must be ${what}, got "${value}"`);
  return n;
}

const positiveInt = (n: number) => Number.isInteger(n) && n > 0;
const nonNegativeInt = (n: number) => Number.isInteger(n) && n >= 0;

/**
 * Parses `npm run train -- ...` arguments.
 *
 * @example parseTrainArgs(['--backbone', 'resnet-tiny', '--data', 'd', '--epochs', '3'], { cwd, repoRoot })
 * @throws Error with the usage for an unknown flag, a missing --backbone/--data or a bad value.
 */
export function parseTrainArgs(
  argv: readonly string[],
  paths: { cwd: string; repoRoot: string },
): TrainOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      backbone: { type: 'string' },
      data: { type: 'string' },
      registry: { type: 'string' },
      name: { type: 'string' },
      epochs: { type: 'string' },
      'batch-size': { type: 'string' },
      'micro-batch': { type: 'string' },
      lr: { type: 'string' },
      'input-size': { type: 'string' },
      pretrained: { type: 'string', multiple: true },
      'freeze-epochs': { type: 'string' },
      'val-fraction': { type: 'string' },
      seed: { type: 'string' },
      'split-seed': { type: 'string' },
      resume: { type: 'boolean', default: false },
      patience: { type: 'string' },
      'weight-decay': { type: 'string' },
      'clip-norm': { type: 'string' },
      'label-smoothing': { type: 'string' },
      'class-balance': { type: 'string' },
      'no-augment': { type: 'boolean', default: false },
      'no-calibrate': { type: 'boolean', default: false },
      teacher: { type: 'string' },
      'distill-temperature': { type: 'string' },
      'distill-alpha': { type: 'string' },
      distill: { type: 'boolean', default: false },
      'on-bad-image': { type: 'string' },
      'max-train-images': { type: 'string' },
      'max-test-images': { type: 'string' },
      'runs-dir': { type: 'string' },
      'comparison-dir': { type: 'string' },
      backend: { type: 'string' },
      'no-progress': { type: 'boolean', default: false },
      'log-level': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) throw new Error(TRAIN_USAGE);
  if (!values.backbone) throw new Error(`--backbone is required\n${TRAIN_USAGE}`);
  if (!values.data) throw new Error(`--data is required\n${TRAIN_USAGE}`);
  const backbones =
    values.backbone === 'all' ? [...STUDY_BACKBONES] : values.backbone.split(',').map((b) => b.trim());
  for (const b of backbones) resolveBackbone(b); // throws naming the valid backbones
  if (new Set(backbones).size !== backbones.length)
    throw new Error(`--backbone lists a backbone twice: ${values.backbone}`);
  if (values.name !== undefined) {
    if (backbones.length > 1) throw new Error('--name applies to a single backbone');
    if (!isValidModelName(values.name))
      throw new Error(`--name "${values.name}" is not a valid registry model name`);
  }
  if (values.distill && !values.teacher)
    throw new Error(`npm run distill needs --teacher REGISTRY/NAME[@V]\n${TRAIN_USAGE}`);
  if (values.teacher !== undefined && !values.teacher.includes('/'))
    throw new Error(
      `--teacher "${values.teacher}": expected REGISTRY/NAME[@VERSION], e.g. models/resnet-small-x3@2`,
    );
  const classBalance = (values['class-balance'] ?? TRAIN_DEFAULTS.classBalance) as ClassBalanceMode;
  if (!CLASS_BALANCE_MODES.includes(classBalance)) {
    throw new Error(
      `--class-balance must be one of ${CLASS_BALANCE_MODES.join(', ')}, got "${classBalance}"`,
    );
  }
  const onBadImage = (values['on-bad-image'] ?? TRAIN_DEFAULTS.onBadImage) as BadImagePolicy;
  if (onBadImage !== 'skip' && onBadImage !== 'fail')
    throw new Error(`--on-bad-image must be skip or fail, got "${onBadImage}"`);
  const backend = (values.backend ?? null) as BackendName | null;
  if (backend !== null && !BACKEND_NAMES.includes(backend)) {
    throw new Error(`--backend must be one of ${BACKEND_NAMES.join(', ')}, got "${backend}"`);
  }
  const fromCwd = (p: string) => path.resolve(paths.cwd, p);
  const epochs = number(values.epochs, '--epochs', TRAIN_DEFAULTS.epochs, positiveInt, 'a positive integer');
  const freezeEpochs = number(
    values['freeze-epochs'],
    '--freeze-epochs',
    TRAIN_DEFAULTS.freezeEpochs,
    nonNegativeInt,
    'an integer >= 0',
  );
  if (freezeEpochs > epochs)
    throw new Error(`--freeze-epochs (${freezeEpochs}) exceeds --epochs (${epochs})`);
  const clip = number(
    values['clip-norm'],
    '--clip-norm',
    TRAIN_DEFAULTS.clipNorm,
    (n) => n >= 0,
    'a number >= 0',
  );
  const maxTrain = values['max-train-images'];
  const micro = values['micro-batch'];
  const maxTest = values['max-test-images'];
  return {
    backbones,
    data: fromCwd(values.data),
    registry: values.registry ? fromCwd(values.registry) : scratchRegistry(paths.repoRoot),
    name: values.name ?? null,
    epochs,
    batchSize: number(
      values['batch-size'],
      '--batch-size',
      TRAIN_DEFAULTS.batchSize,
      positiveInt,
      'a positive integer',
    ),
    microBatch:
      micro === undefined ? null : number(micro, '--micro-batch', 0, positiveInt, 'a positive integer'),
    lr: number(values.lr, '--lr', TRAIN_DEFAULTS.lr, (n) => n > 0, 'a positive number'),
    inputSize: number(
      values['input-size'],
      '--input-size',
      TRAIN_DEFAULTS.inputSize,
      (n) => positiveInt(n) && n >= 8,
      'an integer >= 8',
    ),
    ...parsePretrainedArgs(values.pretrained ?? [], backbones, fromCwd),
    freezeEpochs,
    valFraction: number(
      values['val-fraction'],
      '--val-fraction',
      TRAIN_DEFAULTS.valFraction,
      (n) => n > 0 && n <= 0.5,
      'in (0, 0.5]',
    ),
    seed: number(values.seed, '--seed', TRAIN_DEFAULTS.seed, Number.isSafeInteger, 'an integer'),
    splitSeed:
      values['split-seed'] === undefined
        ? null
        : number(values['split-seed'], '--split-seed', 0, Number.isSafeInteger, 'an integer'),
    resume: values.resume ?? false,
    patience: number(
      values.patience,
      '--patience',
      TRAIN_DEFAULTS.patience,
      nonNegativeInt,
      'an integer >= 0',
    ),
    weightDecay: number(
      values['weight-decay'],
      '--weight-decay',
      TRAIN_DEFAULTS.weightDecay,
      (n) => n >= 0,
      'a number >= 0',
    ),
    clipNorm: clip === 0 ? null : clip,
    labelSmoothing: number(
      values['label-smoothing'],
      '--label-smoothing',
      TRAIN_DEFAULTS.labelSmoothing,
      (n) => n >= 0 && n < 1,
      'in [0, 1)',
    ),
    classBalance,
    augment: !values['no-augment'],
    calibrate: !values['no-calibrate'],
    teacher: values.teacher ? parseRegistryModelRef(values.teacher, paths.cwd) : null,
    distillTemperature: number(
      values['distill-temperature'],
      '--distill-temperature',
      TRAIN_DEFAULTS.distillTemperature,
      (n) => n > 0,
      'a positive number',
    ),
    distillAlpha: number(
      values['distill-alpha'],
      '--distill-alpha',
      TRAIN_DEFAULTS.distillAlpha,
      (n) => n >= 0 && n <= 1,
      'in [0, 1]',
    ),
    onBadImage,
    maxTrainImages:
      maxTrain === undefined
        ? null
        : number(maxTrain, '--max-train-images', 0, positiveInt, 'a positive integer'),
    maxTestImages:
      maxTest === undefined
        ? null
        : number(maxTest, '--max-test-images', 0, positiveInt, 'a positive integer'),
    runsDir: values['runs-dir']
      ? fromCwd(values['runs-dir'])
      : path.join(paths.repoRoot, 'artifacts', 'runs'),
    comparisonDir: values['comparison-dir'] ? fromCwd(values['comparison-dir']) : null,
    backend,
    evalBatchSize: TRAIN_DEFAULTS.evalBatchSize,
    progress: !values['no-progress'],
    logLevel: values['log-level'] ?? 'info',
  };
}
