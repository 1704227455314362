/**
 * GET /models/{name}/versions/{version}/report/{file}: a published version's report files (charts,
 * report.md, metrics.json, epochs.jsonl), read-only, for the model cards of the demo page. A file
 * is served only when its name is on the allow-list (report-files.ts), the version is one the
 * registry lists, the file is among the artifacts its metadata.json recorded at publishing, it is
 * still a regular file of the recorded size, and its real path (every symbolic link on the way
 * resolved, the report folder's included) lies inside the version's folder: nothing else under the
 * registry, or outside it, is reachable.
 */
import { createReadStream } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { isValidModelName, ModelNotFoundError, REPORT_DIR, versionDir } from '@fer/shared';
import type { Config } from '../config';
import { InvalidRequestError, NotFoundError } from '../errors';
import { REPORT_SECURITY_HEADERS, reportContentType } from './report-files';

const VERSION_PARAM = /^[1-9][0-9]{0,8}$/;

export interface ReportRouteOptions {
  config: Config;
}

class ReportFileNotFoundError extends NotFoundError {
  constructor(name: string, version: number, file: string) {
    super(`Version ${version} of "${name}" has no report file "${file}"`);
  }
}

/** The ETag of a file whose checksum the registry recorded: it changes exactly when the bytes do. */
function etagOf(sha256: string): string {
  return `"sha256-${sha256}"`;
}

/**
 * The real path of `file` when it lies inside the real path of `versionFolder`, else null (also
 * when either cannot be resolved).
 */
async function servedPath(versionFolder: string, file: string): Promise<string | null> {
  const [root, real] = await Promise.all([realpath(versionFolder), realpath(file)]).catch(() => [null, null]);
  if (root === null || real === null) return null;
  return real.startsWith(root + path.sep) ? real : null;
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((candidate) => {
    const tag = candidate.trim().replace(/^W\//, '');
    return tag === etag || tag === '*';
  });
}

export default async function reportRoutes(
  app: FastifyInstance,
  { config }: ReportRouteOptions,
): Promise<void> {
  app.get<{ Params: { name: string; version: string; file: string } }>(
    '/models/:name/versions/:version/report/:file',
    async (request, reply) => {
      const { name, file } = request.params;
      if (!VERSION_PARAM.test(request.params.version))
        throw new InvalidRequestError(`Invalid version "${request.params.version}": a positive integer`);
      const version = Number(request.params.version);
      if (!isValidModelName(name)) throw new ModelNotFoundError(name, version);
      const contentType = reportContentType(file);
      if (contentType === null) {
        throw new InvalidRequestError(
          'Invalid report file name: a plain name ending in .svg, .png, .md, .json or .jsonl',
        );
      }
      const view = app.models.describe(name, version);
      const artifact = view.metadata?.artifacts.find((a) => a.path === `${REPORT_DIR}/${file}`);
      if (!artifact) throw new ReportFileNotFoundError(name, version, file);

      const dir = versionDir(config.registry.dir, name, version);
      const full = path.join(dir, REPORT_DIR, file);
      // lstat, not stat: a symbolic link put in place of a published file is not followed.
      const stats = await lstat(full).catch(() => null);
      if (!stats?.isFile() || stats.size !== artifact.bytes) {
        request.log.warn({ model: name, version, file }, 'report file missing or changed since publishing');
        throw new ReportFileNotFoundError(name, version, file);
      }
      // A folder on the way (report/ itself) may be a symbolic link to elsewhere: judge the real path.
      const real = await servedPath(dir, full);
      if (real === null) {
        request.log.warn({ model: name, version, file }, 'report file resolves outside its version folder');
        throw new ReportFileNotFoundError(name, version, file);
      }

      const etag = etagOf(artifact.sha256);
      reply.headers({ ...REPORT_SECURITY_HEADERS, etag, 'cache-control': 'no-cache' });
      if (matchesEtag(request.headers['if-none-match'], etag)) return reply.code(304).send();
      reply.type(contentType).header('content-length', stats.size);
      return reply.send(createReadStream(real));
    },
  );
}
