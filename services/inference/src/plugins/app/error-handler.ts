/**
 * The edge where errors become HTTP answers: Fastify's error handler (every thrown error, mapped by
 * `toHttpError` to a status, headers such as Retry-After and the `{ error: { code, message } }`
 * body; unexpected ones logged in full) and the not-found handler for unknown routes. Registered
 * first, at the root, so every route and hook answers through it.
 */
import fp from 'fastify-plugin';
import { errorBody, toHttpError } from '../../http-errors';

export default fp(
  async (app) => {
    app.setErrorHandler((error, request, reply) => {
      const http = toHttpError(error, request.id);
      if (http.unexpected) request.log.error({ err: error }, 'request failed');
      else if (http.statusCode >= 500)
        request.log.warn({ code: http.code, reason: http.message }, 'request not served');
      reply.code(http.statusCode).headers(http.headers).send(errorBody(http.code, http.message));
    });
    app.setNotFoundHandler((request, reply) => {
      reply
        .code(404)
        .send(errorBody('NOT_FOUND', `Route ${request.method} ${request.url.split('?')[0]} not found`));
    });
  },
  { name: 'error-handler' },
);
