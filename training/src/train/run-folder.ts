/**
 * A training run's folder, `<runs>/<name>-<run key>`: checkpoints, the epoch log, the staged
 * version and, once published, published.json. The key hashes the loop configuration and the
 * run's identity (backbone, input size, dataset fingerprint, split, pretrained weights, teacher),
 * so the same options find the same folder and `--resume` continues it. The key of a given set of
 * options must never change (test/train/run-key.test.ts pins some): it would strand runs in progress.
 */
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveBackbone, type BackboneConfig } from '../backbones';
import { defaultAugment } from '../data/augment';
import type { Teacher } from '../distill/teacher';
import { DEFAULT_ADAMW } from './adamw';
import type { TrainResult } from './job-context';
import { runKey, type LoopConfig } from './train-loop';
import { pretrainedFileFor } from './pretrained-weights';
import type { TrainOptions } from './train-options';

/** Written after publishing: a resumed run that finds it returns it instead of publishing again. */
const PUBLISHED_FILE = 'published.json';

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

/**
 * Everything besides the loop configuration that makes two runs the same run.
 *
 * @example await runIdentity(options, 'resnet-small', fingerprint, null, null) // '{"backbone":{...},"inputSize":96,...}'
 */
export async function runIdentity(
  options: TrainOptions,
  backbone: string,
  fingerprint: string,
  pretrained: string | null,
  teacher: Pick<Teacher, 'onnxSha256'> | null,
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

export interface RunFolder {
  dir: string;
  loop: LoopConfig;
  /** Folded into the run key and checked by the checkpoint: see runIdentity. */
  identity: string;
  /** The weights file the backbone starts from, if any. */
  pretrained: string | null;
  /** What this run already published (a resumed run); null when it has still to publish. */
  published: TrainResult | null;
}

/**
 * The run folder of `options` for backbone `config`, ready for the loop: with `--resume` kept as
 * it is (and what it already published read back), otherwise emptied.
 *
 * @example const run = await openRunFolder(options, config, 'resnet-small', fingerprint, null);
 * @throws PretrainedWeightsError when the backbone's --pretrained weights are missing.
 */
export async function openRunFolder(
  options: TrainOptions,
  config: BackboneConfig,
  name: string,
  fingerprint: string,
  teacher: Teacher | null,
): Promise<RunFolder> {
  const loop = loopConfig(options);
  const pretrained = await pretrainedFileFor(options, config.name);
  const identity = await runIdentity(options, config.name, fingerprint, pretrained, teacher);
  const dir = path.join(options.runsDir, `${name}-${runKey(loop, identity)}`);
  let published: TrainResult | null = null;
  if (options.resume) {
    published = await readFile(path.join(dir, PUBLISHED_FILE), 'utf8').then(
      (text) => JSON.parse(text) as TrainResult,
      () => null,
    );
  } else {
    await rm(dir, { recursive: true, force: true });
  }
  if (!published) await mkdir(dir, { recursive: true });
  return { dir, loop, identity, pretrained, published };
}

/**
 * Records what the run published, so that `--resume` returns it instead of publishing again.
 *
 * @example await recordPublished(run.dir, result);
 */
export async function recordPublished(runDir: string, result: TrainResult): Promise<void> {
  await writeFile(path.join(runDir, PUBLISHED_FILE), `${JSON.stringify(result, null, 2)}\n`);
}
