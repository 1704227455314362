/**
 * Reading the registry: list every model and version, resolve a (name, version) to a loadable
 * folder. Listing never throws for a broken version; it reports the version with its problems.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { InvalidModelVersionError, ModelNotFoundError } from '../errors';
import { verifyArtifacts } from './artifacts';
import { isValidModelName, METADATA_FILE, modelDir, ONNX_FILE, parseVersionDir, versionDir } from './layout';
import { modelMetadataSchema, type ModelMetadata } from './schema';

export type VersionEntry =
  | { name: string; version: number; dir: string; status: 'ready'; metadata: ModelMetadata }
  | { name: string; version: number; dir: string; status: 'invalid'; problems: string[] };

export interface ModelEntry {
  name: string;
  /** Ascending by version number. */
  versions: VersionEntry[];
  /** The highest ready version: what a request without `version` gets. */
  latest: number | null;
}

export interface ReadOptions {
  /** 'size' checks that every artifact exists with its recorded size; 'sha256' also hashes them. */
  verify?: 'size' | 'sha256';
}

/**
 * Reads and checks one version folder.
 *
 * @example const v = await readVersion('models', 'resnet152', 3); if (v.status === 'ready') use(v.metadata);
 */
export async function readVersion(
  root: string,
  name: string,
  version: number,
  options: ReadOptions = {},
): Promise<VersionEntry> {
  const dir = versionDir(root, name, version);
  const invalid = (problems: string[]): VersionEntry => ({ name, version, dir, status: 'invalid', problems });

  let raw: string;
  try {
    raw = await readFile(path.join(dir, METADATA_FILE), 'utf8');
  } catch {
    return invalid([`${METADATA_FILE} is missing or unreadable`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return invalid([`${METADATA_FILE} is not valid JSON`]);
  }
  const parsed = modelMetadataSchema.safeParse(json);
  if (!parsed.success) {
    return invalid(
      parsed.error.issues.map((i) => `${METADATA_FILE}: ${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  const metadata = parsed.data;
  const problems: string[] = [];
  if (metadata.name !== name)
    problems.push(`${METADATA_FILE} names model "${metadata.name}", folder is "${name}"`);
  if (metadata.version !== version)
    problems.push(`${METADATA_FILE} says version ${metadata.version}, folder is ${version}`);
  if (!metadata.artifacts.some((a) => a.path === ONNX_FILE))
    problems.push(`${ONNX_FILE} is not among the artifacts`);
  problems.push(...(await checkArtifacts(dir, metadata, options.verify ?? 'size')));
  return problems.length > 0 ? invalid(problems) : { name, version, dir, status: 'ready', metadata };
}

async function checkArtifacts(
  dir: string,
  metadata: ModelMetadata,
  verify: 'size' | 'sha256',
): Promise<string[]> {
  if (verify === 'sha256') return verifyArtifacts(dir, metadata.artifacts);
  const problems: string[] = [];
  for (const artifact of metadata.artifacts) {
    try {
      const { size } = await stat(path.join(dir, ...artifact.path.split('/')));
      if (size !== artifact.bytes)
        problems.push(`${artifact.path}: ${size} bytes, expected ${artifact.bytes}`);
    } catch {
      problems.push(`${artifact.path}: missing`);
    }
  }
  return problems;
}

/** Version numbers present as folders under a model (ascending); hidden folders are skipped. */
export async function listVersionNumbers(root: string, name: string): Promise<number[]> {
  const entries = await readdir(modelDir(root, name), { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => parseVersionDir(e.name))
    .filter((v): v is number => v !== null)
    .sort((a, b) => a - b);
}

/**
 * Every model in the registry with every version and its status. A missing root is an empty
 * registry; folders that are not valid model names are skipped.
 */
export async function listModels(root: string, options: ReadOptions = {}): Promise<ModelEntry[]> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const names = entries
    .filter((e) => e.isDirectory() && isValidModelName(e.name))
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const numbers = await listVersionNumbers(root, name).catch(() => []);
      const versions = await Promise.all(numbers.map((v) => readVersion(root, name, v, options)));
      const ready = versions.filter((v) => v.status === 'ready');
      return { name, versions, latest: ready.length > 0 ? ready[ready.length - 1].version : null };
    }),
  );
}

/**
 * The ready version a request means: the pinned one, or the highest ready version.
 *
 * @throws ModelNotFoundError when the model or version does not exist,
 *         InvalidModelVersionError when a pinned version exists but is broken.
 */
export async function resolve(
  root: string,
  name: string,
  version?: number,
  options: ReadOptions = {},
): Promise<Extract<VersionEntry, { status: 'ready' }>> {
  if (!isValidModelName(name)) throw new ModelNotFoundError(name, version);
  let numbers: number[];
  try {
    numbers = await listVersionNumbers(root, name);
  } catch {
    throw new ModelNotFoundError(name);
  }
  if (version !== undefined) {
    if (!numbers.includes(version)) throw new ModelNotFoundError(name, version);
    const entry = await readVersion(root, name, version, options);
    if (entry.status !== 'ready') throw new InvalidModelVersionError(entry.dir, entry.problems);
    return entry;
  }
  for (const v of [...numbers].reverse()) {
    const entry = await readVersion(root, name, v, options);
    if (entry.status === 'ready') return entry;
  }
  throw new ModelNotFoundError(name);
}
