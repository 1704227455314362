/**
 * A run's folder is `<name>-<run key>`, and `--resume` finds an interrupted run by it: the key of a
 * given set of options must never change, whatever the code around it becomes. These values were
 * computed before the release step was split out of train-job.ts; a refactor that changes one
 * strands every run in progress.
 */
import path from 'node:path';
import { loopConfig, runIdentity } from '../../src/train/run-folder';
import { runKey } from '../../src/train/train-loop';
import { parseTrainArgs } from '../../src/train/train-options';

const PATHS = { cwd: '/repo', repoRoot: '/repo' };
const FINGERPRINT = 'fingerprint-1';
const PRETRAINED = path.resolve(__dirname, '../fixtures/torchvision/resnet-tiny.pth');
/** runIdentity reads only the teacher's model.onnx digest. */
const TEACHER = { onnxSha256: 'sha256:5f2c' };

const STUDY =
  '--backbone resnet-small --data ../shared/datasets/fer6 --input-size 96 --epochs 40 --batch-size 64 --lr 0.002 ' +
  '--label-smoothing 0.1 --patience 10 --seed 42 --split-seed 42 --backend wasm --registry artifacts/study --no-progress --resume';
const RECIPE =
  '--backbone resnet-tiny --data data --input-size 48 --epochs 3 --batch-size 32 --micro-batch 8 --lr 0.01 ' +
  '--freeze-epochs 1 --val-fraction 0.2 --patience 0 --weight-decay 0.01 --clip-norm 2 --label-smoothing 0 ' +
  '--class-balance sampling --no-augment --max-train-images 500 --seed 7';
const STUDENT =
  '--distill --backbone resnet-small --input-size 80 --teacher models/resnet-small-x3@2 --data data --epochs 40 ' +
  '--batch-size 64 --lr 0.002 --label-smoothing 0.1 --patience 10 --seed 42 --split-seed 42';

async function keyOf(argv: string, pretrained: string | null = null, teacher: typeof TEACHER | null = null) {
  const options = parseTrainArgs(argv.split(' '), PATHS);
  const identity = await runIdentity(options, options.backbones[0], FINGERPRINT, pretrained, teacher);
  return { key: runKey(loopConfig(options), identity), identity };
}

describe('run key', () => {
  it('is the same as before for the study recipe (the key --resume finds its folder by)', async () => {
    const { key, identity } = await keyOf(STUDY);
    expect(key).toBe('0d8d79e43880c135');
    expect(identity).toBe(
      '{"backbone":{"family":"resnet","name":"resnet-small","block":"basic","layers":[2,2,2,2],"stemWidth":16,' +
        '"widths":[16,32,64,128]},"inputSize":96,"fingerprint":"fingerprint-1","valFraction":0.1,' +
        '"maxTrainImages":null,"splitSeed":42,"pretrained":null}',
    );
  });

  it('is the same as before for the defaults, a full recipe with pretrained weights, and a student', async () => {
    expect((await keyOf('--backbone resnet-tiny --data data')).key).toBe('27e484d872508f70');
    const recipe = await keyOf(RECIPE, PRETRAINED);
    expect(recipe.key).toBe('16fe5c976ee49717');
    expect(JSON.parse(recipe.identity)).toMatchObject({ pretrained: 'resnet-tiny.pth:105271' });
    const student = await keyOf(STUDENT, null, TEACHER);
    expect(student.key).toBe('5ad6cf18a4c05566');
    expect(JSON.parse(student.identity)).toMatchObject({ teacher: 'sha256:5f2c' });
  });

  it('changes with anything that shapes the run', async () => {
    const base = (await keyOf(STUDY)).key;
    expect((await keyOf(STUDY.replace('--seed 42', '--seed 43'))).key).not.toBe(base);
    expect((await keyOf(STUDY.replace('--lr 0.002', '--lr 0.003'))).key).not.toBe(base);
    expect((await keyOf(STUDY.replace('--input-size 96', '--input-size 80'))).key).not.toBe(base);
    // Where the model is published and how progress is shown are not the run.
    expect((await keyOf(STUDY.replace('artifacts/study', 'models').replace(' --no-progress', ''))).key).toBe(
      base,
    );
  });
});
