/**
 * The trainer image (docker/train-gpu.Dockerfile). Its CUDA base cannot be pulled here, so it is built
 * on the Debian stand-in with the native binding skipped (TFJS_NATIVE=skip): TF.js trains on its wasm
 * backend, the CPU fallback the image has anyway. Then `npm run train`'s script runs inside it on a
 * generated Kaggle-layout dataset mounted read-only, one epoch of resnet-tiny, publishing into a
 * mounted registry. The CUDA layers (libtensorflow, tfjs-node-gpu) are not exercised.
 */
import { chmod, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/test-models';
import { writeKaggleDataset } from '../../../../training/test/helpers/synthetic-dataset';
import { DOCKER, mustRun } from './commands';

export const TRAINER_IMAGE = 'fer-docker-test-trainer';
/** The model the test trains; any name the shipped registry does not have. */
export const TRAINED_MODEL = 'resnet-tiny';
const BUILD_TIMEOUT_MS = 900_000;
const TRAIN_TIMEOUT_MS = 240_000;

/** Builds the trainer image on `debianImage` instead of the CUDA runtime. */
export async function buildTrainer(env: NodeJS.ProcessEnv, debianImage: string): Promise<string> {
  await mustRun(
    DOCKER,
    [
      'build',
      '--network',
      'host',
      '-f',
      path.join(REPO_ROOT, 'docker', 'train-gpu.Dockerfile'),
      '--build-arg',
      `CUDA_IMAGE=${debianImage}`,
      '--build-arg',
      'TFJS_NATIVE=skip',
      '-t',
      TRAINER_IMAGE,
      REPO_ROOT,
    ],
    { env, cwd: REPO_ROOT, timeoutMs: BUILD_TIMEOUT_MS },
  );
  return `${TRAINER_IMAGE} on ${debianImage} (CUDA_IMAGE), TFJS_NATIVE=skip`;
}

/** Writes a small Kaggle-layout dataset that the container (uid 1000) can read. */
export async function writeDataset(dir: string): Promise<void> {
  await writeKaggleDataset(dir, { train: 16, test: 4, seed: 5 });
  await mustRun('chmod', ['-R', 'a+rX', dir], { timeoutMs: 30_000 });
}

/**
 * Runs the training job in the image: the registry and artifacts mounted writable, the dataset
 * read-only. Resolves with the published version's number.
 */
export async function trainInContainer(
  env: NodeJS.ProcessEnv,
  dirs: { dataset: string; registry: string; artifacts: string },
): Promise<{ version: number; log: string }> {
  await mkdir(dirs.artifacts, { recursive: true });
  // The job runs as uid 1000 and publishes into the registry's root.
  await chmod(dirs.registry, 0o777);
  await chmod(dirs.artifacts, 0o777);
  const output = await mustRun(
    DOCKER,
    [
      'run',
      '--rm',
      '--network',
      'host',
      '-v',
      `${dirs.dataset}:/data:ro`,
      '-v',
      `${dirs.registry}:/app/models`,
      '-v',
      `${dirs.artifacts}:/app/artifacts`,
      TRAINER_IMAGE,
      'training/src/cli/train.ts',
      '--backbone',
      TRAINED_MODEL,
      '--data',
      '/data',
      '--input-size',
      '32',
      '--epochs',
      '1',
      '--batch-size',
      '16',
      '--seed',
      '7',
      '--no-progress',
      // Into the mounted registry (the job's default is the scratch registry under artifacts/).
      '--registry',
      'models',
    ],
    { env, timeoutMs: TRAIN_TIMEOUT_MS },
  );
  const folder = path.join(dirs.registry, TRAINED_MODEL);
  const metadata = JSON.parse(await readFile(path.join(folder, '1', 'metadata.json'), 'utf8')) as {
    version: number;
    training?: { backend?: string };
  };
  return { version: metadata.version, log: output };
}
