/**
 * One model name, one input: every version of a model reads its input the same way (input shape
 * and preprocessing). Triton's config.pbtxt describes one input per model, not per version, and
 * the service hot-loads a newer version as the default of its name, so a version that expected
 * other input would silently replace the one clients were built against. Publishing refuses such
 * a version; publishing it under another name is always possible.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { preprocessSpecSchema, type PreprocessSpec } from '../preprocess';
import { METADATA_FILE, versionDir } from './layout';
import { listVersionNumbers } from './read';

/**
 * A version that would read its input differently from the existing versions of its name. Not a
 * FerError: it belongs to publishing, which the service never does, so it has no HTTP mapping.
 */
export class IncompatibleVersionError extends Error {
  readonly code = 'INCOMPATIBLE_VERSION';

  constructor(
    readonly modelName: string,
    readonly existingVersion: number,
    readonly differences: readonly string[],
    suggestedName: string,
  ) {
    super(
      `cannot publish a new version of "${modelName}": its preprocessing differs from version ` +
        `${existingVersion}'s (${differences.join('; ')}). Every version of a model must read its ` +
        'input the same way (Triton and the service describe one input per model); publish it under ' +
        `another name instead, e.g. --name ${suggestedName}`,
    );
    this.name = 'IncompatibleVersionError';
  }
}

/** A name for the new version's model that says what sets it apart, when the input size does. */
function suggestedName(name: string, existing: PreprocessSpec, next: PreprocessSpec): string {
  const suffix = existing.input_size !== next.input_size ? `-${next.input_size}px` : '-2';
  return `${name.slice(0, 64 - suffix.length)}${suffix}`;
}

/**
 * The fields in which two preprocessing specs differ, each as "field: a -> b" (empty when equal).
 *
 * @example preprocessingDifferences(defaultPreprocessSpec(96), defaultPreprocessSpec(48)) // ['input_size: 96 -> 48']
 */
export function preprocessingDifferences(existing: PreprocessSpec, next: PreprocessSpec): string[] {
  const keys = [...new Set([...Object.keys(existing), ...Object.keys(next)])] as (keyof PreprocessSpec)[];
  return keys
    .filter((key) => JSON.stringify(existing[key]) !== JSON.stringify(next[key]))
    .map((key) => `${key}: ${JSON.stringify(existing[key])} -> ${JSON.stringify(next[key])}`);
}

/** The preprocessing a version folder's metadata.json records, or null when it cannot be read. */
async function recordedPreprocessing(dir: string): Promise<PreprocessSpec | null> {
  try {
    const json = JSON.parse(await readFile(path.join(dir, METADATA_FILE), 'utf8')) as {
      preprocessing?: unknown;
    };
    const parsed = preprocessSpecSchema.safeParse(json.preprocessing);
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * Throws unless a new version of `name` with `preprocessing` reads its input like every existing
 * version of that name whose metadata records one (a new name, or a name without readable
 * versions, accepts anything). `publish` calls it; jobs call it before hours of work too.
 *
 * @example await assertCompatibleVersion('models', 'resnet-small', defaultPreprocessSpec(48)); // throws: v1 is 96 px
 * @throws IncompatibleVersionError naming the first differing version and the fields that differ.
 */
export async function assertCompatibleVersion(
  root: string,
  name: string,
  preprocessing: PreprocessSpec,
): Promise<void> {
  let versions: number[];
  try {
    versions = await listVersionNumbers(root, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const version of versions) {
    const existing = await recordedPreprocessing(versionDir(root, name, version));
    if (existing === null) continue;
    const differences = preprocessingDifferences(existing, preprocessing);
    if (differences.length > 0) {
      const suggestion = suggestedName(name, existing, preprocessing);
      throw new IncompatibleVersionError(name, version, differences, suggestion);
    }
  }
}
