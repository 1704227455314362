import path from 'node:path';
import { parseEvaluateArgs } from '../../src/evaluate/evaluate-options';
import { parseModelRef } from '../../src/model-ref';

const paths = { cwd: '/work', repoRoot: '/repo' };

describe('parseModelRef', () => {
  it('reads NAME and NAME@VERSION', () => {
    expect(parseModelRef('resnet152')).toEqual({ name: 'resnet152' });
    expect(parseModelRef('resnet152@12')).toEqual({ name: 'resnet152', version: 12 });
  });

  it.each(['', '@3', 'resnet152@', 'resnet152@0', 'resnet152@1.5', 'resnet152@x'])('rejects "%s"', (text) => {
    expect(() => parseModelRef(text)).toThrow(/--model/);
  });
});

describe('parseEvaluateArgs', () => {
  it('defaults to the test split of the project registry', () => {
    const o = parseEvaluateArgs(['--model', 'densenet161@2', '--data', 'fer6'], paths);
    expect(o).toMatchObject({
      model: 'densenet161@2',
      data: path.resolve('/work', 'fer6'),
      registry: '/repo/models',
      split: 'test',
      out: null,
      outDir: '/repo/artifacts/evaluations',
      onBadImage: 'skip',
    });
  });

  it('requires --model and --data and checks values', () => {
    expect(() => parseEvaluateArgs(['--data', 'd'], paths)).toThrow(/--model is required/);
    expect(() => parseEvaluateArgs(['--model', 'm'], paths)).toThrow(/--data is required/);
    expect(() => parseEvaluateArgs(['--model', 'm@0', '--data', 'd'], paths)).toThrow(/positive integer/);
    expect(() => parseEvaluateArgs(['--model', 'm', '--data', 'd', '--batch-size', '0'], paths)).toThrow(
      /--batch-size/,
    );
  });
});
