/**
 * What a student learns from: a published teacher's probabilities on the student's training
 * images, computed once through the teacher's model.onnx (at the teacher's own preprocessing) and
 * cached on disk by teacher file, preprocessing and image list, then softened at the distillation
 * temperature and lined up with the student's training set.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NUM_CLASSES, ONNX_FILE, type PreprocessSpec } from '@fer/shared';
import { logProbabilities, scaledProbabilities } from '../calibration/temperature-fit';
import type { Sample } from '../data/dataset-types';
import { cachePixels, type BadImagePolicy } from '../data/pixel-cache';
import { OnnxClassifier } from '../release/onnx-classifier';
import type { Logger } from '../train/logger';

/** A published teacher: its folder and what identifies its model.onnx. */
export interface TeacherVersion {
  name: string;
  version: number;
  dir: string;
  spec: PreprocessSpec;
  /** sha256 of its model.onnx, from its metadata. */
  onnxSha256: string;
}

export interface TeacherCacheOptions {
  cacheDir: string;
  batchSize: number;
  onBadImage: BadImagePolicy;
  log: Logger;
}

/** The teacher's probabilities of some images, by image id. */
export interface TeacherAnswers {
  ids: string[];
  /** Row-major [ids.length, classes]. */
  probabilities: Float32Array;
  /** Where they are cached, and whether this call computed them. */
  file: string;
  computed: boolean;
}

function cacheKey(teacher: TeacherVersion, samples: readonly Sample[]): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ onnx: teacher.onnxSha256, spec: teacher.spec }));
  for (const s of samples) hash.update(`\n${s.id}`);
  return hash.digest('hex').slice(0, 16);
}

/**
 * The teacher's probabilities of `samples`, from the cache when an earlier run computed them.
 *
 * @example const answers = await teacherAnswers(teacher, split.train, { cacheDir, batchSize: 64, onBadImage: 'skip', log });
 */
export async function teacherAnswers(
  teacher: TeacherVersion,
  samples: readonly Sample[],
  options: TeacherCacheOptions,
): Promise<TeacherAnswers> {
  const file = path.join(
    options.cacheDir,
    `${teacher.name}-v${teacher.version}-${cacheKey(teacher, samples)}`,
  );
  try {
    const ids = JSON.parse(await readFile(`${file}.json`, 'utf8')) as string[];
    const bytes = await readFile(`${file}.f32`);
    const probabilities = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    );
    if (probabilities.length === ids.length * NUM_CLASSES) {
      options.log.info({ file, images: ids.length }, 'teacher probabilities read from the cache');
      return { ids, probabilities, file, computed: false };
    }
  } catch {
    // not cached yet (or unreadable): compute below
  }
  const { set } = await cachePixels(samples, teacher.spec, { onBadImage: options.onBadImage });
  const classifier = await OnnxClassifier.load(
    path.join(teacher.dir, ONNX_FILE),
    teacher.spec.input_size,
    NUM_CLASSES,
  );
  let probabilities: Float32Array;
  try {
    probabilities = await classifier.classifySet(set, teacher.spec, options.batchSize);
  } finally {
    await classifier.dispose();
  }
  await mkdir(options.cacheDir, { recursive: true });
  // Write then rename, so a reader never sees half a file.
  for (const [suffix, data] of [
    ['.f32', Buffer.from(probabilities.buffer, probabilities.byteOffset, probabilities.byteLength)],
    ['.json', JSON.stringify(set.ids)],
  ] as const) {
    // A temporary name of this process's own: two runs may fill the cache at once.
    const temporary = `${file}${suffix}.${process.pid}.tmp`;
    await writeFile(temporary, data);
    await rename(temporary, `${file}${suffix}`);
  }
  options.log.info({ file, images: set.count }, 'teacher probabilities computed and cached');
  return { ids: set.ids, probabilities, file, computed: true };
}

/**
 * The teacher's answers softened at `temperature` (p^(1/T), renormalised), in the order of `ids`.
 *
 * @example const targets = softTargets(answers, trainSet.ids, 2); // [trainSet.count, classes]
 * @throws Error naming an image the teacher has no answer for.
 */
export function softTargets(
  answers: Pick<TeacherAnswers, 'ids' | 'probabilities'>,
  ids: readonly string[],
  temperature: number,
): Float32Array {
  const row = new Map(answers.ids.map((id, i) => [id, i]));
  const k = NUM_CLASSES;
  const ordered = new Float32Array(ids.length * k);
  ids.forEach((id, i) => {
    const r = row.get(id);
    if (r === undefined) throw new Error(`the teacher has no answer for training image ${id}`);
    ordered.set(answers.probabilities.subarray(r * k, (r + 1) * k), i * k);
  });
  return Float32Array.from(scaledProbabilities(logProbabilities(ordered), [temperature], k));
}
