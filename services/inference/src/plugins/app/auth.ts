/**
 * Optional API-key authentication: when API_KEYS is set, every route except those marked public
 * (health probes, the docs) needs a configured key in `x-api-key`. The key never reaches the logs
 * (the logger redacts the header; only an opaque key id is logged).
 */
import fp from 'fastify-plugin';
import { UnauthorizedError } from '../../errors';
import type { ApiKeys } from '../../security/api-keys';
import { DOCS_PREFIX } from '../external/swagger';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Reachable without an API key. */
    public?: boolean;
  }
}

export interface AuthOptions {
  keys: ApiKeys;
}

export default fp<AuthOptions>(
  async (app, { keys }) => {
    if (!keys.enabled) return;
    app.addHook('onRequest', async (request) => {
      const url = request.routeOptions.url ?? '';
      if (request.routeOptions.config?.public || url === DOCS_PREFIX || url.startsWith(`${DOCS_PREFIX}/`))
        return;
      const id = keys.identify(request.headers['x-api-key']);
      if (id === null) throw new UnauthorizedError();
      request.log.debug({ apiKeyId: id }, 'authenticated');
    });
  },
  { name: 'auth', dependencies: ['metrics'] },
);
