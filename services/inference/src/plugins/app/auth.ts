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
    // preParsing, not onRequest: @fastify/rate-limit counts requests in route-level onRequest
    // hooks, which run after every app-level onRequest hook. Refusing a bad key there would answer
    // 401 before the request is counted, letting a client guess keys without limit. Here the
    // rate limiter has counted it (against the address) and the body is still unread.
    app.addHook('preParsing', async (request) => {
      // A URL no route answers gets its 404 with or without a key: there is nothing behind it to
      // protect, and a page asking for a missing asset must not be told to log in.
      if (request.is404) return;
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
