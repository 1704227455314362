/**
 * GET /study/{file}: the committed study page (docs/study/: README.md, study.json and its charts,
 * written by `npm run study-page`) for the demo page's Models view. Read-only and public like the
 * page itself: it is documentation, not the registry. Only the files present at start-up with a
 * plain name and an allowed extension are reachable, served inert like report files; without the
 * folder (an image built without docs/) the routes do not exist and the Models view shows no study.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { REPORT_SECURITY_HEADERS } from './report-files';

export const STUDY_PREFIX = '/study/';

/** What the study folder may serve, by extension; markdown as text so a browser tab shows it. */
const STUDY_CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.md': 'text/plain; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
});

const STUDY_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.(md|json|svg)$/;

/**
 * The content type a study file is served as, or null when it is not served.
 *
 * @example studyContentType('comparison-quality.svg') // 'image/svg+xml'
 * @example studyContentType('.env') // null
 */
export function studyContentType(file: string): string | null {
  if (!STUDY_FILE_NAME.test(file)) return null;
  return STUDY_CONTENT_TYPES[path.extname(file)] ?? null;
}

export interface StudyRouteOptions {
  /** docs/study, or wherever STUDY_DIR points. */
  dir: string;
}

export default async function studyRoutes(app: FastifyInstance, { dir }: StudyRouteOptions): Promise<void> {
  if (!existsSync(dir)) {
    app.log.info({ dir }, 'no study folder: GET /study/ is not served');
    return;
  }
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, public: true };
  });
  await app.register(fastifyStatic, {
    root: dir,
    prefix: STUDY_PREFIX,
    // One route per file found at start-up: nothing else under the folder, or outside it, is addressed.
    wildcard: false,
    index: false,
    decorateReply: false,
    cacheControl: false,
    dotfiles: 'deny',
    allowedPath: (pathName) => studyContentType(pathName.replace(/^\//, '')) !== null,
    setHeaders: (reply, file) => {
      for (const [name, value] of Object.entries(REPORT_SECURITY_HEADERS)) reply.header(name, value);
      reply.header('cache-control', 'no-cache');
      const type = studyContentType(path.basename(file));
      if (type) reply.header('content-type', type);
    },
  });
}
