/**
 * The API documentation: the hand-written openapi.yaml at the repository root, served as JSON and
 * YAML and rendered by Swagger UI at GET /docs (assets bundled in the npm package: works offline).
 */
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';

export const OPENAPI_FILE = path.resolve(__dirname, '../../../../../openapi.yaml');
export const DOCS_PREFIX = '/docs';

export async function registerSwagger(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    mode: 'static',
    specification: { path: OPENAPI_FILE, baseDir: path.dirname(OPENAPI_FILE) },
  });
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    // Without Swagger's top bar: its logo is an SVG with an inline <style>, which the CSP below
    // refuses (a console error on every visit), and its "Explore" box only loads other documents.
    uiConfig: { layout: 'BaseLayout' },
    staticCSP: true,
    // Same reason as in helmet.ts: plain HTTP must not be upgraded to https by the browser.
    transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, ''),
    logLevel: 'warn',
  });
}
