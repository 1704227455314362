/**
 * The options of `npm run evaluate` and their command-line parsing. Relative paths are resolved
 * against the directory the user ran npm from.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { EvaluateOptions } from './evaluate-job';
import { parseModelRef } from '../model-ref';

export const EVALUATE_USAGE = `usage: npm run evaluate -- --model NAME[@VERSION] --data DIR [options]

  --model NAME[@V]     a model of the registry (default version: the highest ready one)
  --data DIR           Kaggle layout, msambare layout, FER2013 CSV or plain class folders
  --split NAME         a split of the dataset, or test / train (default: test)
  --registry DIR       default: models/ (what npm start serves; npm run train and npm run
                       ensemble publish into artifacts/registry/ unless told otherwise)
  --out FILE           JSON report (default: artifacts/evaluations/<name>-v<version>-<split>.json);
                       the reliability diagram goes beside it (<file>.reliability.svg and .png)
  --batch-size N       images per onnxruntime call (64)
  --max-images N       a stratified sample of at most N images (seeded by --seed, default 42)
  --on-bad-image M     skip|fail (skip)
  --threads N          onnxruntime intra-op threads (default: all cores)`;

const DEFAULT_BATCH = 64;
const DEFAULT_SEED = 42;

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got "${value}"`);
  return n;
}

/**
 * Parses `npm run evaluate -- ...` arguments.
 *
 * @example parseEvaluateArgs(['--model', 'resnet152@2', '--data', 'fer6'], { cwd, repoRoot })
 */
export function parseEvaluateArgs(
  argv: readonly string[],
  paths: { cwd: string; repoRoot: string },
): EvaluateOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      split: { type: 'string' },
      registry: { type: 'string' },
      out: { type: 'string' },
      'batch-size': { type: 'string' },
      'max-images': { type: 'string' },
      seed: { type: 'string' },
      'on-bad-image': { type: 'string' },
      threads: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) throw new Error(EVALUATE_USAGE);
  if (!values.model) throw new Error(`--model is required\n${EVALUATE_USAGE}`);
  if (!values.data) throw new Error(`--data is required\n${EVALUATE_USAGE}`);
  parseModelRef(values.model); // fail on a malformed reference before any work
  const onBadImage = values['on-bad-image'] ?? 'skip';
  if (onBadImage !== 'skip' && onBadImage !== 'fail') {
    throw new Error(`--on-bad-image must be skip or fail, got "${onBadImage}"`);
  }
  const seed = values.seed === undefined ? DEFAULT_SEED : Number(values.seed);
  if (!Number.isSafeInteger(seed)) throw new Error(`--seed must be an integer, got "${values.seed}"`);
  const fromCwd = (p: string) => path.resolve(paths.cwd, p);
  const maxImages = positiveInt(values['max-images'], '--max-images');
  const threads = positiveInt(values.threads, '--threads');
  return {
    registry: values.registry ? fromCwd(values.registry) : path.join(paths.repoRoot, 'models'),
    model: values.model,
    data: fromCwd(values.data),
    split: values.split ?? 'test',
    batchSize: positiveInt(values['batch-size'], '--batch-size') ?? DEFAULT_BATCH,
    onBadImage,
    ...(maxImages !== undefined ? { maxImages } : {}),
    seed,
    out: values.out ? fromCwd(values.out) : null,
    outDir: path.join(paths.repoRoot, 'artifacts', 'evaluations'),
    ...(threads !== undefined ? { threads } : {}),
  };
}
