/**
 * Which weights file each backbone of a run starts from (`--pretrained`), and the check that every
 * file fits its backbone before the first backbone trains: a study of two backbones must not train
 * the first for hours and then find the second's file is the wrong architecture.
 *
 * `--pretrained` takes a file (one backbone), `NAME=FILE` per backbone (repeatable), or a folder in
 * which each backbone's file is found by its architecture name, as torchvision names its downloads
 * (`resnet152-394f9c45.pth`, `densenet161-8d451a50.pth`) or plainly (`densenet161.safetensors`).
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NUM_CLASSES } from '@fer/shared';
import {
  BACKBONES,
  buildBackbone,
  describeModelWeights,
  headLayerName,
  planWeightImport,
  readStateDict,
  resolveBackbone,
  summarizeProblems,
  WeightImportError,
  WeightMismatchError,
} from '../backbones';
import type { Logger } from './logger';

/** The weights files a run can read, by extension. */
export const WEIGHT_FILE_EXTENSIONS = ['.pth', '.pt', '.safetensors', '.bin'] as const;

/** At most this many file names are listed when a folder has no (or several) files for a backbone. */
const MAX_NAMES_LISTED = 8;

/** `--pretrained` as given: one file or folder for every backbone, and files named per backbone. */
export interface PretrainedArgs {
  /** A plain `--pretrained PATH` (absolute). */
  pretrained: string | null;
  /** `--pretrained NAME=PATH` entries (absolute paths), by backbone name. */
  pretrainedFor: Readonly<Record<string, string>>;
}

/** Weights that cannot be used: a missing or ambiguous file, or one that does not fit its backbone. */
export class PretrainedWeightsError extends Error {
  override name = 'PretrainedWeightsError';
}

/**
 * Splits the `--pretrained` values into a plain path and `NAME=PATH` entries. A value is an entry
 * when the part before its first `=` is a backbone name; that name must be one of `backbones`.
 *
 * @example parsePretrainedArgs(['resnet152=a.pth', 'densenet161=b.pth'], ['resnet152', 'densenet161'], (p) => p)
 * // { pretrained: null, pretrainedFor: { resnet152: 'a.pth', densenet161: 'b.pth' } }
 * @throws Error for two plain paths, a backbone named twice, or a backbone --backbone does not list.
 */
export function parsePretrainedArgs(
  values: readonly string[],
  backbones: readonly string[],
  toAbsolute: (p: string) => string,
): PretrainedArgs {
  let pretrained: string | null = null;
  const pretrainedFor: Record<string, string> = {};
  for (const value of values) {
    const equals = value.indexOf('=');
    const name = equals > 0 ? value.slice(0, equals) : '';
    if (Object.hasOwn(BACKBONES, name)) {
      if (!backbones.includes(name))
        throw new Error(`--pretrained ${value}: --backbone does not list ${name} (${backbones.join(', ')})`);
      if (Object.hasOwn(pretrainedFor, name)) throw new Error(`--pretrained names ${name} twice`);
      const file = value.slice(equals + 1);
      if (file === '') throw new Error(`--pretrained ${value}: no file after "="`);
      pretrainedFor[name] = toAbsolute(file);
    } else {
      if (pretrained !== null)
        throw new Error(
          `--pretrained is given two plain paths (${pretrained}, ${value}); for several backbones use ` +
            '--pretrained NAME=FILE once per backbone, or one folder',
        );
      pretrained = toAbsolute(value);
    }
  }
  return { pretrained, pretrainedFor };
}

/**
 * The file names in a folder that hold `backbone`'s weights: `<backbone>.<ext>` or torchvision's
 * `<backbone>-<hash>.<ext>` (a hexadecimal hash of 6 or more digits).
 *
 * @example weightFilesFor(['resnet152-394f9c45.pth', 'densenet161-8d451a50.pth'], 'resnet152') // ['resnet152-394f9c45.pth']
 */
export function weightFilesFor(fileNames: readonly string[], backbone: string): string[] {
  return fileNames.filter((file) => {
    const ext = WEIGHT_FILE_EXTENSIONS.find((e) => file.toLowerCase().endsWith(e));
    if (!ext) return false;
    const base = file.slice(0, -ext.length);
    if (base === backbone) return true;
    return base.startsWith(`${backbone}-`) && /^[0-9a-f]{6,}$/i.test(base.slice(backbone.length + 1));
  });
}

function listed(names: readonly string[]): string {
  const shown = names.slice(0, MAX_NAMES_LISTED).join(', ');
  return names.length > MAX_NAMES_LISTED ? `${shown}, ... (${names.length} in all)` : shown || 'nothing';
}

async function kindOf(file: string): Promise<'file' | 'folder' | null> {
  const info = await stat(file).catch(() => null);
  if (!info) return null;
  return info.isDirectory() ? 'folder' : 'file';
}

/**
 * The weights file `backbone` starts from in this run, or null (random initialization).
 *
 * @example await pretrainedFileFor({ pretrained: '/w', pretrainedFor: {}, backbones: ['resnet152', 'densenet161'] }, 'resnet152')
 * // '/w/resnet152-394f9c45.pth'
 * @throws PretrainedWeightsError when the path is missing, a folder has no single file for the
 * backbone, or one plain file is given for several backbones.
 */
export async function pretrainedFileFor(
  options: PretrainedArgs & { backbones: readonly string[] },
  backbone: string,
): Promise<string | null> {
  const own = options.pretrainedFor[backbone];
  if (own !== undefined) {
    if ((await kindOf(own)) !== 'file')
      throw new PretrainedWeightsError(`--pretrained ${backbone}=${own}: no such file`);
    return own;
  }
  const given = options.pretrained;
  if (given === null) return null;
  const kind = await kindOf(given);
  if (kind === null) throw new PretrainedWeightsError(`--pretrained ${given}: no such file or folder`);
  if (kind === 'file') {
    if (options.backbones.length > 1) {
      throw new PretrainedWeightsError(
        `--pretrained ${given} is one file for ${options.backbones.length} backbones (${options.backbones.join(', ')}); ` +
          'give one per backbone (--pretrained NAME=FILE, repeated) or a folder of files named by architecture ' +
          '(e.g. resnet152-394f9c45.pth, densenet161-8d451a50.pth)',
      );
    }
    return given;
  }
  const names = (await readdir(given)).sort();
  const matches = weightFilesFor(names, backbone);
  if (matches.length === 1) return path.join(given, matches[0]);
  throw new PretrainedWeightsError(
    matches.length === 0
      ? `--pretrained ${given}: no weights file for ${backbone} (${backbone}.pth or ${backbone}-<hash>.pth; ` +
          `${WEIGHT_FILE_EXTENSIONS.join(' ')}); the folder holds ${listed(names)}`
      : `--pretrained ${given}: several weights files for ${backbone} (${listed(matches)}); keep one or name it with ${backbone}=FILE`,
  );
}

/**
 * Does `file` fit `backbone` at this input size? Plans the import (names and shapes, no tensor is
 * written) into a model built with zero kernels, which is quick even for the full-size networks.
 *
 * @returns the problems (all of them), empty when the file fits.
 */
async function problemsOf(file: string, backbone: string, inputSize: number): Promise<string[]> {
  const config = resolveBackbone(backbone);
  const source = path.basename(file);
  const model = buildBackbone(config, { inputSize, numClasses: NUM_CLASSES, init: 'zeros' });
  try {
    const dict = readStateDict(await readFile(file), source);
    planWeightImport(
      describeModelWeights(model),
      [...dict].map(([key, tensor]) => ({ key, shape: tensor.shape })),
      { headLayer: headLayerName(config), context: `${source} does not fit model "${config.name}"` },
    );
    return [];
  } catch (error) {
    if (error instanceof WeightMismatchError) return [...error.problems];
    if (error instanceof WeightImportError) return [error.message];
    throw error;
  } finally {
    model.dispose();
  }
}

/**
 * Finds every backbone's weights file and checks each against its backbone, before any training.
 * A file that does not fit is reported by its count of problems and the first few; the full list
 * is written to `<reportDir>/<backbone>.weight-problems.txt` and logged at debug level.
 *
 * @example const files = await checkPretrainedWeights(options, options.runsDir, log); // Map backbone -> file | null
 * @throws PretrainedWeightsError naming every backbone whose weights are missing, ambiguous or unfit.
 */
export async function checkPretrainedWeights(
  options: PretrainedArgs & { backbones: readonly string[]; inputSize: number },
  reportDir: string,
  log: Logger,
): Promise<Map<string, string | null>> {
  const files = new Map<string, string | null>();
  const failures: string[] = [];
  for (const backbone of options.backbones) {
    let file: string | null;
    try {
      file = await pretrainedFileFor(options, backbone);
    } catch (error) {
      if (!(error instanceof PretrainedWeightsError)) throw error;
      failures.push(`${backbone}: ${error.message}`);
      continue;
    }
    files.set(backbone, file);
    if (file === null) continue;
    const problems = await problemsOf(file, backbone, options.inputSize);
    if (problems.length === 0) {
      log.info({ backbone, file }, 'pretrained weights fit their backbone');
      continue;
    }
    const listFile = path.join(reportDir, `${backbone}.weight-problems.txt`);
    await mkdir(reportDir, { recursive: true });
    await writeFile(listFile, `${problems.join('\n')}\n`);
    log.debug({ backbone, file, problems }, 'pretrained weights do not fit: every problem');
    failures.push(
      `${backbone}: ${path.basename(file)} does not fit it: ${summarizeProblems(problems)} (all of them in ${listFile})`,
    );
  }
  if (failures.length > 0) {
    throw new PretrainedWeightsError(
      `--pretrained: nothing was trained, ${failures.length} of ${options.backbones.length} backbones cannot use their weights:\n  ${failures.join('\n  ')}`,
    );
  }
  return files;
}
