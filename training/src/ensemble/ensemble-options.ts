/**
 * The options of `npm run ensemble` and their command-line parsing. Relative paths are resolved
 * against the directory the user ran npm from.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseRegistryModelRef, type RegistryModelRef } from '../model-ref';
import type { BadImagePolicy } from '../data/pixel-cache';
import { scratchRegistry } from '../scratch-registry';

export const ENSEMBLE_USAGE = `usage: npm run ensemble -- --member REGISTRY/NAME[@V] --member ... --data DIR --name NAME [options]

  --member REF        a published model: its registry folder and NAME[@VERSION], e.g.
                      models/resnet-small@1 (two or more; all trained with one --split-seed,
                      --val-fraction and dataset, and one preprocessing)
  --data DIR          the dataset the members were trained on: the ensemble is scored on the
                      validation images they all held out, and on the test split
  --name NAME         registry model name of the ensemble
  --mirror            also run every member on the mirror image of each input and average
                      those answers too (test-time flip, inside the model: twice the compute,
                      no extra weights)
  --no-calibrate      publish without the temperature fitted on the shared validation images
                      (by default the mean probabilities are raised to 1/T and renormalised)
  --registry DIR      where the ensemble is published (artifacts/registry/, a scratch registry;
                      --registry models publishes into the registry npm start serves)
  --batch-size N      images per onnxruntime call (64)
  --on-bad-image M    skip | fail (skip)`;

export interface EnsembleOptions {
  members: RegistryModelRef[];
  data: string;
  name: string;
  registry: string;
  /** Average each member over the input and its mirror image as well. */
  mirror: boolean;
  /** Fit a temperature on the shared validation images and bake it into the graph. */
  calibrate: boolean;
  batchSize: number;
  onBadImage: BadImagePolicy;
}

const DEFAULT_BATCH = 64;

/**
 * Parses `npm run ensemble -- ...` arguments.
 *
 * @example parseEnsembleArgs(['--member', 'models/a@1', '--member', 'models/b@1', '--data', 'fer6', '--name', 'ab'], { cwd, repoRoot })
 * @throws Error with the usage for unknown flags, fewer than two members or a missing value.
 */
export function parseEnsembleArgs(
  argv: readonly string[],
  paths: { cwd: string; repoRoot: string },
): EnsembleOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      member: { type: 'string', multiple: true },
      data: { type: 'string' },
      name: { type: 'string' },
      registry: { type: 'string' },
      mirror: { type: 'boolean', default: false },
      'no-calibrate': { type: 'boolean', default: false },
      'batch-size': { type: 'string' },
      'on-bad-image': { type: 'string' },
    },
    strict: true,
  });
  const members = (values.member ?? []).map((m) => parseRegistryModelRef(m, paths.cwd));
  if (members.length < 2) throw new Error(`two or more --member are required\n${ENSEMBLE_USAGE}`);
  if (!values.data) throw new Error(`--data is required\n${ENSEMBLE_USAGE}`);
  if (!values.name) throw new Error(`--name is required\n${ENSEMBLE_USAGE}`);
  const onBadImage = values['on-bad-image'] ?? 'skip';
  if (onBadImage !== 'skip' && onBadImage !== 'fail')
    throw new Error(`--on-bad-image must be skip or fail, got "${onBadImage}"`);
  const batch = values['batch-size'] === undefined ? DEFAULT_BATCH : Number(values['batch-size']);
  if (!Number.isInteger(batch) || batch < 1)
    throw new Error(`--batch-size must be a positive integer, got "${values['batch-size']}"`);
  return {
    members,
    data: path.resolve(paths.cwd, values.data),
    name: values.name,
    registry: values.registry ? path.resolve(paths.cwd, values.registry) : scratchRegistry(paths.repoRoot),
    mirror: values.mirror ?? false,
    calibrate: !values['no-calibrate'],
    batchSize: batch,
    onBadImage,
  };
}
