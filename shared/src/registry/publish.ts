/**
 * Atomic publishing of a new model version (DESIGN §3). Files are copied into a hidden staging
 * folder beside the versions, the next number is claimed with an exclusive mkdir, and the
 * staging folder is renamed into place: readers never see a half-written version, concurrent
 * publishers never share a number, and nothing is ever overwritten.
 */
import { randomBytes } from 'node:crypto';
import { cp, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describeArtifacts } from './artifacts';
import { assertCompatibleVersion } from './compatibility';
import { CLAIM_PREFIX, METADATA_FILE, modelDir, ONNX_FILE, parseVersionDir, STAGING_PREFIX } from './layout';
import {
  METADATA_SCHEMA_VERSION,
  modelMetadataSchema,
  type MetadataDraft,
  type ModelMetadata,
} from './schema';
import { type TritonOptions, writeTritonConfig } from './triton';

export interface PublishRequest {
  root: string;
  name: string;
  /** Folder with the version's files (model.onnx, tfjs/, report/...); it is copied, not moved. */
  sourceDir: string;
  metadata: MetadataDraft;
  /** Settings of the Triton config.pbtxt written beside the versions; false skips it. */
  triton?: TritonOptions | false;
}

export interface Published {
  version: number;
  dir: string;
  metadata: ModelMetadata;
}

/** Version numbers used or claimed under a model folder. */
async function takenNumbers(dir: string): Promise<number[]> {
  const names = await readdir(dir);
  return names
    .map((n) =>
      n.startsWith(CLAIM_PREFIX) ? parseVersionDir(n.slice(CLAIM_PREFIX.length)) : parseVersionDir(n),
    )
    .filter((v): v is number => v !== null);
}

/** Claims the lowest number above every version and claim; exclusive across processes. */
async function claimNextVersion(dir: string): Promise<number> {
  for (;;) {
    const next = Math.max(0, ...(await takenNumbers(dir))) + 1;
    try {
      await mkdir(path.join(dir, `${CLAIM_PREFIX}${next}`));
      return next;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

function isTargetTaken(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EEXIST' || code === 'ENOTEMPTY';
}

/**
 * Publishes `sourceDir` as the next version of `name` and returns its number and metadata.
 *
 * @example const { version } = await publish({ root: 'models', name: 'resnet152', sourceDir: out, metadata });
 * @throws IncompatibleVersionError when the existing versions of `name` read their input otherwise.
 */
export async function publish(request: PublishRequest): Promise<Published> {
  const dir = modelDir(request.root, request.name);
  await mkdir(dir, { recursive: true });
  const staging = path.join(dir, `${STAGING_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    await cp(request.sourceDir, staging, {
      recursive: true,
      filter: (src) => path.relative(request.sourceDir, src) !== METADATA_FILE,
    });
    const artifacts = await describeArtifacts(staging);
    if (!artifacts.some((a) => a.path === ONNX_FILE)) {
      throw new Error(`cannot publish ${request.name}: ${ONNX_FILE} is missing from the source folder`);
    }
    // Validate before claiming a number, so a bad draft costs no version number.
    const validated = modelMetadataSchema.parse({
      ...request.metadata,
      schema_version: METADATA_SCHEMA_VERSION,
      name: request.name,
      version: 1,
      created_at: request.metadata.created_at ?? new Date().toISOString(),
      artifacts,
    });
    // Every version of a name reads its input alike (compatibility.ts): refused before a number is claimed.
    await assertCompatibleVersion(request.root, request.name, validated.preprocessing);
    for (;;) {
      const version = await claimNextVersion(dir);
      const metadata: ModelMetadata = { ...validated, version };
      await writeFile(path.join(staging, METADATA_FILE), `${JSON.stringify(metadata, null, 2)}\n`);
      const target = path.join(dir, String(version));
      const claim = path.join(dir, `${CLAIM_PREFIX}${version}`);
      try {
        await rename(staging, target);
      } catch (error) {
        if (!isTargetTaken(error)) throw error;
        // Another publisher claimed, filled and released this number between our listing and
        // our claim: its version folder now holds the number, so drop our claim and try the next.
        await rm(claim, { recursive: true, force: true });
        continue;
      }
      await rm(claim, { recursive: true, force: true });
      if (request.triton !== false && version >= Math.max(...(await takenNumbers(dir)))) {
        await writeTritonConfig(dir, metadata, request.triton);
      }
      return { version, dir: target, metadata };
    }
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}
