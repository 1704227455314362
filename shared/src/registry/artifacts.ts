/**
 * Checksums of a version's files: publish records them, loaders verify them, so a model file
 * changed or truncated after publishing is noticed instead of served.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Artifact } from './schema';
import { METADATA_FILE } from './layout';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every regular file under `dir` (recursively) as a forward-slash path relative to `dir`, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

/** Artifacts (path, sha256, size) of every file in a version folder except metadata.json. */
export async function describeArtifacts(dir: string): Promise<Artifact[]> {
  const files = (await listFiles(dir)).filter((f) => f !== METADATA_FILE);
  return Promise.all(
    files.map(async (file) => {
      const full = path.join(dir, file);
      return { path: file, sha256: await sha256File(full), bytes: (await stat(full)).size };
    }),
  );
}

/**
 * The problems with a version folder's files compared with its recorded artifacts; empty when
 * every file is present with the recorded size and checksum.
 *
 * @example await verifyArtifacts(dir, metadata.artifacts) // ['model.onnx: missing']
 */
export async function verifyArtifacts(dir: string, artifacts: readonly Artifact[]): Promise<string[]> {
  const problems: string[] = [];
  for (const artifact of artifacts) {
    const full = path.join(dir, ...artifact.path.split('/'));
    let size: number;
    try {
      size = (await stat(full)).size;
    } catch {
      problems.push(`${artifact.path}: missing`);
      continue;
    }
    if (size !== artifact.bytes) {
      problems.push(`${artifact.path}: ${size} bytes, expected ${artifact.bytes}`);
    } else if ((await sha256File(full)) !== artifact.sha256) {
      problems.push(`${artifact.path}: sha256 mismatch`);
    }
  }
  return problems;
}
