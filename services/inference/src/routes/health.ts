/**
 * GET /healthz (the process is alive) and GET /readyz (it can serve a plain request: the versions
 * found at start-up have all loaded or failed, the model that requests without `model` get is
 * loaded, the face detector is up, and it is not draining). Both are public: probes carry no API
 * key. A load balancer or healthcheck sends traffic only to a replica that answers 200 here, so
 * 200 must never precede a 503 to a plain request.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { NotReadyError } from '../errors';
import { livenessSchema, readinessSchema } from './response-schemas';

const probe = { public: true, rateLimit: false };

export default async function healthRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get('/healthz', { config: probe, schema: { response: { 200: livenessSchema } } }, async () => ({
    status: 'ok' as const,
  }));

  app.get('/readyz', { config: probe, schema: { response: { 200: readinessSchema } } }, async () => {
    if (app.lifecycle.draining) throw new NotReadyError('The service is shutting down');
    const serving = app.models.defaultStatus();
    if (serving.starting) throw new NotReadyError('The model versions found at start-up are still loading');
    if (serving.model === null || serving.version === null)
      throw new NotReadyError('No model version is loaded: requests without a model cannot be served');
    if (app.detector.state !== 'ready') throw new NotReadyError(`The face detector is ${app.detector.state}`);
    return {
      status: 'ready' as const,
      models_ready: app.models.readyCount,
      detector: app.detector.state,
      default_model: { name: serving.model, version: serving.version },
      failover:
        serving.failover === null
          ? null
          : { configured_model: serving.failover.configured, reason: serving.failover.reason },
    };
  });
}
