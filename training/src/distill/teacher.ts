/**
 * The teacher of a distillation run (`npm run distill`, `train --teacher`): a published version,
 * the validation split it held out (which the student adopts, so neither ever trained on the
 * images that judge them), and its answers on the student's training images.
 */
import { ONNX_FILE, resolve, type ModelMetadata } from '@fer/shared';
import { assertRecordedValidation, CalibrateSourceError, versionSplit } from '../calibration/version-split';
import type { Sample } from '../data/dataset-types';
import { cachePixels } from '../data/pixel-cache';
import type { ValidationSplitId } from '../ensemble/member-split';
import type { RegistryModelRef } from '../model-ref';
import type { TrainOptions } from '../train/train-options';
import {
  softTargets,
  teacherAnswers,
  type TeacherCacheOptions,
  type TeacherVersion,
} from './teacher-targets';

export interface Teacher extends TeacherVersion {
  metadata: ModelMetadata;
  split: ValidationSplitId;
}

/**
 * Resolves and verifies the teacher.
 *
 * @example const teacher = await resolveTeacher({ registry: 'models', name: 'resnet-small-x3', version: 2 });
 * @throws ModelNotFoundError; EnsembleMemberError for a teacher whose validation split is unknown.
 */
export async function resolveTeacher(ref: RegistryModelRef): Promise<Teacher> {
  const entry = await resolve(ref.registry, ref.name, ref.version, { verify: 'sha256' });
  const onnx = entry.metadata.artifacts.find((a) => a.path === ONNX_FILE);
  return {
    name: entry.name,
    version: entry.version,
    dir: entry.dir,
    spec: entry.metadata.preprocessing,
    onnxSha256: onnx?.sha256 ?? '',
    metadata: entry.metadata,
    split: versionSplit(entry.metadata),
  };
}

/**
 * The options with the teacher's validation split.
 *
 * @example options = withTeacherSplit(options, teacher); // options.splitSeed === teacher.split.seed
 * @throws Error when --split-seed asks for another split than the teacher's.
 */
export function withTeacherSplit(options: TrainOptions, teacher: Teacher): TrainOptions {
  if (options.splitSeed !== null && options.splitSeed !== teacher.split.seed) {
    throw new Error(
      `--split-seed ${options.splitSeed} differs from the teacher ${teacher.name}@${teacher.version}'s validation split (seed ${teacher.split.seed}); a student keeps its teacher's split`,
    );
  }
  return { ...options, splitSeed: teacher.split.seed, valFraction: teacher.split.fraction };
}

/**
 * Refuses a dataset the teacher was not trained on, by fingerprint for a trained teacher (an
 * ensemble's recorded validation score is checked by teacherTargets).
 *
 * @throws CalibrateSourceError naming both fingerprints.
 */
export function assertTeacherDataset(teacher: Teacher, fingerprint: string): void {
  const trainedOn = teacher.metadata.training?.dataset.fingerprint;
  if (trainedOn !== undefined && trainedOn !== fingerprint) {
    throw new CalibrateSourceError(
      `the dataset (fingerprint ${fingerprint}) is not the one the teacher ${teacher.name}@${teacher.version} was trained on (${trainedOn})`,
    );
  }
}

/**
 * The teacher's softened answers on the training images, in the order of `trainIds`.
 *
 * @example const targets = await teacherTargets(teacher, split, trainSet.ids, 2, cacheOptions);
 */
export async function teacherTargets(
  teacher: Teacher,
  split: { train: readonly Sample[]; validation: readonly Sample[] },
  trainIds: readonly string[],
  temperature: number,
  options: TeacherCacheOptions,
): Promise<Float32Array> {
  if (teacher.metadata.ensemble) {
    const { set } = await cachePixels(split.validation, teacher.spec, { onBadImage: options.onBadImage });
    await assertRecordedValidation(teacher, set, options.batchSize);
  }
  const answers = await teacherAnswers(teacher, split.train, options);
  return softTargets(answers, trainIds, temperature);
}
