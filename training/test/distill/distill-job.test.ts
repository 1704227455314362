// `npm run distill` (train --teacher) end to end on the synthetic dataset: the student holds out its
// teacher's validation images, the teacher's answers are computed once and cached, and the
// distillation is recorded with the version.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readVersion, type ModelMetadata } from '@fer/shared';
import { selectTrainingBackend } from '../../src/backend';
import { silentLogger } from '../../src/train/logger';
import { trainOne, type JobContext } from '../../src/train/train-job';
import { parseTrainArgs } from '../../src/train/train-options';
import { writeKaggleDataset } from '../helpers/synthetic-dataset';

const TIMEOUT_MS = 120_000;
let tmp: string;
let paths: { cwd: string; repoRoot: string };

const context: JobContext = {
  log: silentLogger(),
  progress: { epoch: () => ({ update: () => undefined, stop: () => undefined }) },
  print: () => undefined,
  backend: 'test',
  command: null,
  codeRevision: null,
};

const train = (name: string, extra: string[]) =>
  trainOne(
    parseTrainArgs(
      [
        '--backbone=resnet-tiny',
        '--data=data',
        '--input-size=32',
        '--epochs=2',
        '--batch-size=16',
        `--name=${name}`,
        '--registry=models',
        '--runs-dir=artifacts/runs',
        ...extra,
      ],
      paths,
    ),
    'resnet-tiny',
    context,
  );

async function metadataOf(name: string): Promise<ModelMetadata> {
  const entry = await readVersion(path.join(tmp, 'models'), name, 1);
  if (entry.status !== 'ready') throw new Error(`${name} is ${entry.status}`);
  return entry.metadata;
}

beforeAll(async () => {
  await selectTrainingBackend();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-distill-job-'));
  paths = { cwd: tmp, repoRoot: tmp };
  await writeKaggleDataset(path.join(tmp, 'data'), { train: 12, test: 4, seed: 5, format: 'png' });
  await train('teacher', ['--seed=3', '--split-seed=21', '--epochs=3']);
}, TIMEOUT_MS);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('train --teacher', () => {
  it(
    "holds out the teacher's validation images, caches its answers once and records the distillation",
    async () => {
      const argv = [
        '--teacher=models/teacher@1',
        '--distill-temperature=3',
        '--distill-alpha=0.8',
        '--seed=4',
      ];
      await train('student', argv);
      const [teacher, student] = [await metadataOf('teacher'), await metadataOf('student')];
      expect(student.training?.optimizer).toMatchObject({
        validation_split_seed: 21,
        validation_fraction: 0.1,
        distillation: { teacher: 'teacher@1', temperature: 3, alpha: 0.8 },
      });
      expect(student.calibration?.fitted_on).toEqual(teacher.calibration?.fitted_on);

      const cacheDir = path.join(tmp, 'artifacts', 'teacher-cache');
      const cached = (await readdir(cacheDir)).sort();
      expect(cached).toEqual(
        [expect.stringMatching(/^teacher-v1-[0-9a-f]{16}\.f32$/), expect.stringMatching(/\.json$/)].sort(),
      );
      const written = (await stat(path.join(cacheDir, cached[0]))).mtimeMs;
      // Another student of the same teacher reads the cache instead of running the teacher again.
      await train('student-2', [...argv, '--seed=5']);
      expect((await readdir(cacheDir)).sort()).toEqual(cached);
      expect((await stat(path.join(cacheDir, cached[0]))).mtimeMs).toBe(written);
    },
    TIMEOUT_MS,
  );

  it('refuses another validation split than the teacher’s, and npm run distill without a teacher', async () => {
    await expect(train('x', ['--teacher=models/teacher@1', '--split-seed=7'])).rejects.toThrow(
      /a student keeps its teacher's split/,
    );
    expect(() => parseTrainArgs(['--backbone=resnet-tiny', '--data=data', '--distill'], paths)).toThrow(
      /npm run distill needs --teacher/,
    );
    expect(() =>
      parseTrainArgs(['--backbone=resnet-tiny', '--data=data', '--teacher=teacher@1'], paths),
    ).toThrow(/REGISTRY\/NAME/);
  });
});
