/**
 * Decorates the app with its Prometheus metrics and counts every HTTP response by method, route,
 * status and model (the model a /predict request was served by, empty elsewhere).
 */
import fp from 'fastify-plugin';
import { createMetrics, type ServiceMetrics } from '../../metrics';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ServiceMetrics;
  }
  interface FastifyRequest {
    /** "name@version" of the model that served the request, for the request counter. */
    modelLabel: string;
  }
}

export default fp(
  async (app) => {
    const metrics = createMetrics();
    app.decorate('metrics', metrics);
    app.decorateRequest('modelLabel', '');
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      const status = String(reply.statusCode);
      metrics.httpRequests.inc({ method: request.method, route, status, model: request.modelLabel ?? '' });
      metrics.httpDuration.observe({ method: request.method, route, status }, reply.elapsedTime / 1000);
    });
  },
  { name: 'metrics' },
);
