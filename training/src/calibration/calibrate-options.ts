/**
 * The options of `npm run calibrate` and their command-line parsing. Relative paths are resolved
 * against the directory the user ran npm from.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isValidModelName } from '@fer/shared';
import type { BadImagePolicy } from '../data/pixel-cache';
import { parseRegistryModelRef, type RegistryModelRef } from '../model-ref';
import { scratchRegistry } from '../scratch-registry';

export const CALIBRATE_USAGE = `usage: npm run calibrate -- --model REGISTRY/NAME[@V] --data DIR [options]

  Publishes a new version of a published model with a temperature baked into its graph, fitted
  on the validation images that version held out (recorded in its metadata), then scored once on
  the test split.

  --model REF         the published version, e.g. models/resnet-small-x3@1 (default version: the
                      highest ready one)
  --data DIR          the dataset it was trained on
  --registry DIR      where the calibrated version is published (artifacts/registry/, a scratch
                      registry; --registry models publishes into the registry npm start serves)
  --name NAME         registry model name of the calibrated version (the model's own name)
  --batch-size N      images per inference call (64)
  --on-bad-image M    skip | fail (skip)`;

export interface CalibrateOptions {
  source: RegistryModelRef;
  data: string;
  registry: string;
  name: string;
  batchSize: number;
  onBadImage: BadImagePolicy;
}

const DEFAULT_BATCH = 64;

/**
 * Parses `npm run calibrate -- ...` arguments.
 *
 * @example parseCalibrateArgs(['--model', 'models/resnet-small-x3@1', '--data', 'fer6'], { cwd, repoRoot })
 * @throws Error with the usage for unknown flags, a missing --model or --data, or a bad value.
 */
export function parseCalibrateArgs(
  argv: readonly string[],
  paths: { cwd: string; repoRoot: string },
): CalibrateOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      registry: { type: 'string' },
      name: { type: 'string' },
      'batch-size': { type: 'string' },
      'on-bad-image': { type: 'string' },
    },
    strict: true,
  });
  if (!values.model) throw new Error(`--model is required\n${CALIBRATE_USAGE}`);
  if (!values.data) throw new Error(`--data is required\n${CALIBRATE_USAGE}`);
  if (!values.model.includes('/'))
    throw new Error(
      `--model "${values.model}": expected REGISTRY/NAME[@VERSION], e.g. models/resnet-small-x3@1`,
    );
  const source = parseRegistryModelRef(values.model, paths.cwd);
  const name = values.name ?? source.name;
  if (!isValidModelName(name)) throw new Error(`--name "${name}" is not a valid registry model name`);
  const onBadImage = values['on-bad-image'] ?? 'skip';
  if (onBadImage !== 'skip' && onBadImage !== 'fail')
    throw new Error(`--on-bad-image must be skip or fail, got "${onBadImage}"`);
  const batch = values['batch-size'] === undefined ? DEFAULT_BATCH : Number(values['batch-size']);
  if (!Number.isInteger(batch) || batch < 1)
    throw new Error(`--batch-size must be a positive integer, got "${values['batch-size']}"`);
  return {
    source,
    data: path.resolve(paths.cwd, values.data),
    registry: values.registry ? path.resolve(paths.cwd, values.registry) : scratchRegistry(paths.repoRoot),
    name,
    batchSize: batch,
    onBadImage,
  };
}
