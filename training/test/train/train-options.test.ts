import path from 'node:path';
import { parseTrainArgs, STUDY_BACKBONES, TRAIN_DEFAULTS } from '../../src/train/train-options';

const paths = { cwd: '/home/me/work', repoRoot: '/repo' };
const parse = (...argv: string[]) => parseTrainArgs(argv, paths);

describe('parseTrainArgs', () => {
  it("defaults to the study's recipe and a scratch registry, not the served models/", () => {
    const o = parse('--backbone', 'resnet152', '--data', 'fer6');
    expect(o).toMatchObject({
      backbones: ['resnet152'],
      data: path.resolve('/home/me/work', 'fer6'),
      registry: '/repo/artifacts/registry',
      runsDir: '/repo/artifacts/runs',
      epochs: 20,
      batchSize: 128,
      lr: 1e-3,
      inputSize: 64,
      weightDecay: 1e-2,
      valFraction: 0.1,
      freezeEpochs: 0,
      augment: true,
      resume: false,
      pretrained: null,
      splitSeed: null, // the validation split follows --seed
    });
    expect(o.clipNorm).toBe(TRAIN_DEFAULTS.clipNorm);
  });

  it('expands all to the two study backbones and accepts a list', () => {
    expect(parse('--backbone', 'all', '--data', 'd').backbones).toEqual([...STUDY_BACKBONES]);
    expect(parse('--backbone', 'resnet-tiny,densenet-tiny', '--data', 'd').backbones).toEqual([
      'resnet-tiny',
      'densenet-tiny',
    ]);
  });

  it('reads every flag', () => {
    const o = parse(
      '--backbone=densenet161',
      '--data=/d',
      '--epochs=3',
      '--batch-size=8',
      '--lr=0.01',
      '--input-size=48',
      '--pretrained=w.pth',
      '--freeze-epochs=1',
      '--val-fraction=0.2',
      '--seed=5',
      '--split-seed=9',
      '--resume',
      '--patience=0',
      '--clip-norm=0',
      '--label-smoothing=0.1',
      '--class-balance=sampling',
      '--no-augment',
      '--on-bad-image=fail',
      '--max-train-images=100',
      '--max-test-images=50',
      '--registry=reg',
      '--name=my-model',
    );
    expect(o).toMatchObject({
      epochs: 3,
      batchSize: 8,
      lr: 0.01,
      inputSize: 48,
      pretrained: path.resolve('/home/me/work', 'w.pth'),
      freezeEpochs: 1,
      valFraction: 0.2,
      seed: 5,
      splitSeed: 9,
      resume: true,
      patience: 0,
      clipNorm: null,
      labelSmoothing: 0.1,
      classBalance: 'sampling',
      augment: false,
      onBadImage: 'fail',
      maxTrainImages: 100,
      maxTestImages: 50,
      registry: path.resolve('/home/me/work', 'reg'),
      name: 'my-model',
    });
  });

  it.each([
    [['--data', 'd'], /--backbone is required/],
    [['--backbone', 'resnet152'], /--data is required/],
    [['--backbone', 'vgg16', '--data', 'd'], /Unknown backbone "vgg16"; valid names: .*resnet152/],
    [['--backbone', 'resnet152', '--data', 'd', '--epochs', '0'], /--epochs must be a positive integer/],
    [['--backbone', 'resnet152', '--data', 'd', '--val-fraction', '0'], /--val-fraction must be in/],
    [['--backbone', 'resnet152', '--data', 'd', '--class-balance', 'x'], /--class-balance must be one of/],
    [['--backbone', 'resnet152', '--data', 'd', '--epochs', '2', '--freeze-epochs', '3'], /exceeds --epochs/],
    [['--backbone', 'all', '--data', 'd', '--name', 'x'], /--name applies to a single backbone/],
    [['--backbone', 'resnet152', '--data', 'd', '--frobnicate'], /Unknown option '--frobnicate'/],
  ])('rejects %j', (argv, message) => {
    expect(() => parse(...argv)).toThrow(message);
  });
});
