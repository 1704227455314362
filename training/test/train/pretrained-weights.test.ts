// --pretrained for several backbones: the forms it takes, how a folder's files are matched to
// backbones, and that a missing or unfit file stops the run before any backbone trains, with a
// message that shows the count and the first few problems (the full list goes to a file).
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { selectTrainingBackend } from '../../src/backend';
import { silentLogger } from '../../src/train/logger';
import {
  parsePretrainedArgs,
  pretrainedFileFor,
  PretrainedWeightsError,
  weightFilesFor,
} from '../../src/train/pretrained-weights';
import { runTraining, WEIGHT_CHECKS_DIR } from '../../src/train/run-training';
import type { JobContext } from '../../src/train/train-job';
import { parseTrainArgs } from '../../src/train/train-options';
import { writeKaggleDataset } from '../helpers/synthetic-dataset';

const FIXTURES = path.resolve(__dirname, '../fixtures/torchvision');
/** A refusal names each backbone, the count and five problems: a few lines, never pages. */
const MAX_MESSAGE_CHARS = 3_000;
const CHECK_TIMEOUT_MS = 60_000;

let tmp: string;
beforeAll(async () => {
  await selectTrainingBackend();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fer-pretrained-'));
  await writeKaggleDataset(path.join(tmp, 'data'), { train: 8, test: 2, seed: 3, format: 'png' });
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const context = (): JobContext => ({
  log: silentLogger(),
  progress: { epoch: () => ({ update: () => undefined, stop: () => undefined }) },
  print: () => undefined,
  backend: 'test',
  command: null,
  codeRevision: null,
});

describe('parsePretrainedArgs', () => {
  const both = ['resnet152', 'densenet161'];
  const abs = (p: string) => `/abs/${p}`;

  it('takes a plain path, NAME=PATH per backbone, or both', () => {
    expect(parsePretrainedArgs(['w.pth'], ['resnet152'], abs)).toEqual({
      pretrained: '/abs/w.pth',
      pretrainedFor: {},
    });
    expect(parsePretrainedArgs(['resnet152=a.pth', 'densenet161=dir/b=c.pth'], both, abs)).toEqual({
      pretrained: null,
      pretrainedFor: { resnet152: '/abs/a.pth', densenet161: '/abs/dir/b=c.pth' },
    });
    // "weights=v2.pth" is a file name: "weights" is no backbone.
    expect(parsePretrainedArgs(['weights=v2.pth'], both, abs).pretrained).toBe('/abs/weights=v2.pth');
  });

  it.each([
    [['resnet152=a.pth', 'resnet152=b.pth'], /names resnet152 twice/],
    [['densenet121=a.pth'], /--backbone does not list densenet121/],
    [['a.pth', 'b.pth'], /two plain paths/],
    [['resnet152='], /no file after "="/],
  ])('refuses %j', (values, message) => {
    expect(() => parsePretrainedArgs(values, both, abs)).toThrow(message);
  });

  it('is what parseTrainArgs reads from repeated --pretrained', () => {
    const options = parseTrainArgs(
      [
        '--backbone=resnet152,densenet161',
        '--data=d',
        '--pretrained',
        'resnet152=r.pth',
        '--pretrained=densenet161=d.pth',
      ],
      { cwd: '/home/me', repoRoot: '/repo' },
    );
    expect(options.pretrained).toBeNull();
    expect(options.pretrainedFor).toEqual({ resnet152: '/home/me/r.pth', densenet161: '/home/me/d.pth' });
  });
});

describe('weightFilesFor', () => {
  const folder = [
    'densenet161-8d451a50.pth',
    'resnet152-394f9c45.pth',
    'resnet152-f82ba261.pth.tmp',
    'resnet-small.safetensors',
    'resnet-small-x3.pth',
    'resnet15-394f9c45.pth',
    'README.md',
  ];

  it("matches torchvision's file names and plain ones, nothing else", () => {
    expect(weightFilesFor(folder, 'resnet152')).toEqual(['resnet152-394f9c45.pth']);
    expect(weightFilesFor(folder, 'densenet161')).toEqual(['densenet161-8d451a50.pth']);
    expect(weightFilesFor(folder, 'resnet-small')).toEqual(['resnet-small.safetensors']);
    expect(weightFilesFor(folder, 'densenet121')).toEqual([]);
  });
});

describe('pretrainedFileFor', () => {
  let folder: string;
  beforeAll(async () => {
    folder = path.join(tmp, 'weights');
    await mkdir(folder, { recursive: true });
    await copyFile(path.join(FIXTURES, 'resnet-tiny.pth'), path.join(folder, 'resnet-tiny-0123abcd.pth'));
    await copyFile(
      path.join(FIXTURES, 'resnet-tiny.safetensors'),
      path.join(folder, 'resnet-tiny.safetensors'),
    );
  });
  const of = (pretrained: string | null, pretrainedFor: Record<string, string>, backbones: string[]) => ({
    pretrained,
    pretrainedFor,
    backbones,
  });

  it('finds the file of a backbone, or none', async () => {
    const file = path.join(FIXTURES, 'densenet-tiny.pth');
    await expect(pretrainedFileFor(of(file, {}, ['densenet-tiny']), 'densenet-tiny')).resolves.toBe(file);
    await expect(
      pretrainedFileFor(
        of(folder, { 'densenet-tiny': file }, ['resnet-tiny', 'densenet-tiny']),
        'densenet-tiny',
      ),
    ).resolves.toBe(file);
    await expect(pretrainedFileFor(of(null, {}, ['resnet-tiny']), 'resnet-tiny')).resolves.toBeNull();
  });

  it.each<[string, () => ReturnType<typeof of>, string, RegExp]>([
    [
      'one file for two backbones',
      () => of(path.join(FIXTURES, 'resnet-tiny.pth'), {}, ['resnet-tiny', 'densenet-tiny']),
      'resnet-tiny',
      /one file for 2 backbones .*--pretrained NAME=FILE/,
    ],
    [
      'two files for one backbone',
      () => of(folder, {}, ['resnet-tiny']),
      'resnet-tiny',
      /several weights files for resnet-tiny/,
    ],
    [
      'no file for a backbone',
      () => of(folder, {}, ['resnet-tiny', 'densenet-tiny']),
      'densenet-tiny',
      /no weights file for densenet-tiny .*the folder holds resnet-tiny-0123abcd\.pth, resnet-tiny\.safetensors/,
    ],
    [
      'a missing path',
      () => of(path.join(tmp, 'nope'), {}, ['resnet-tiny']),
      'resnet-tiny',
      /no such file or folder/,
    ],
  ])('refuses %s', async (_what, options, backbone, message) => {
    const attempt = pretrainedFileFor(options(), backbone);
    await expect(attempt).rejects.toBeInstanceOf(PretrainedWeightsError);
    await expect(attempt).rejects.toThrow(message);
  });
});

describe('a file that does not fit its backbone', () => {
  it(
    'stops the run before any backbone trains, naming each with its count and first problems',
    async () => {
      const runsDir = path.join(tmp, 'swapped-runs');
      const registry = path.join(tmp, 'swapped-models');
      const options = parseTrainArgs(
        [
          '--backbone=resnet-tiny,densenet-tiny',
          `--data=${path.join(tmp, 'data')}`,
          '--input-size=32',
          '--epochs=1',
          `--pretrained=resnet-tiny=${path.join(FIXTURES, 'densenet-tiny.pth')}`,
          `--pretrained=densenet-tiny=${path.join(FIXTURES, 'resnet-tiny.safetensors')}`,
          `--registry=${registry}`,
          `--runs-dir=${runsDir}`,
        ],
        { cwd: tmp, repoRoot: tmp },
      );
      let caught: unknown;
      await runTraining(options, context()).catch((error: unknown) => (caught = error));
      expect(caught).toBeInstanceOf(PretrainedWeightsError);
      const message = (caught as Error).message;
      expect(message.length).toBeLessThan(MAX_MESSAGE_CHARS);
      expect(message).toMatch(/nothing was trained, 2 of 2 backbones cannot use their weights/);
      const counts = [
        ...message.matchAll(
          /^ {2}(\S+): .* does not fit it: (\d+) problem\(s\): .*; \.\.\. and \d+ more \(all of them in (\S+)\)$/gm,
        ),
      ];
      expect(counts.map((m) => m[1])).toEqual(['resnet-tiny', 'densenet-tiny']);
      for (const [, backbone, count, file] of counts) {
        expect(file).toBe(path.join(runsDir, WEIGHT_CHECKS_DIR, `${backbone}.weight-problems.txt`));
        expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(Number(count));
      }
      // Nothing trained: no run folder beside the checks, nothing published.
      expect(await readdir(runsDir)).toEqual([WEIGHT_CHECKS_DIR]);
      await expect(readdir(registry)).rejects.toThrow();
    },
    CHECK_TIMEOUT_MS,
  );
});
