/**
 * The demo page (DESIGN §4, `GET /`): services/inference/web served as it is, no build step. The
 * page and its assets are public (with API keys configured, the page asks for one and sends it
 * with its API calls). The page's CSP allows what it needs and nothing more: its own scripts and
 * styles, images from blob:/data: URLs (the uploaded photo, fetched report charts) and same-origin
 * API calls.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

export const WEB_ROOT = path.resolve(__dirname, '../../web');
export const ASSETS_PREFIX = '/assets/';

/** Browsers revalidate (cheaply, by ETag) so a redeployed page is picked up at once. */
const REVALIDATE = 'no-cache';

/** The page's Content-Security-Policy directives (helmet's defaults fill in the rest). */
const PAGE_CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:', 'blob:'],
  mediaSrc: ["'self'", 'blob:'],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  // Same reason as in plugins/external/helmet.ts: the service speaks plain HTTP.
  upgradeInsecureRequests: null,
};

export default async function webRoutes(app: FastifyInstance): Promise<void> {
  // Every route of this plugin (the page and each asset) is reachable without an API key.
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, public: true };
  });

  await app.register(fastifyStatic, {
    root: path.join(WEB_ROOT, 'assets'),
    prefix: ASSETS_PREFIX,
    // One route per file found at start-up: nothing outside the folder can ever be addressed.
    wildcard: false,
    index: false,
    decorateReply: false,
    cacheControl: false,
    setHeaders: (reply) => reply.header('cache-control', REVALIDATE),
  });

  app.get(
    '/',
    { helmet: { contentSecurityPolicy: { directives: PAGE_CSP_DIRECTIVES } } },
    async (_req, reply) => {
      const html = await readFile(path.join(WEB_ROOT, 'index.html'));
      return reply.type('text/html; charset=utf-8').header('cache-control', REVALIDATE).send(html);
    },
  );
}
