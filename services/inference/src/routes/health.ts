/**
 * GET /healthz (the process is alive) and GET /readyz (it can serve: a model is loaded, the face
 * detector is up, and it is not draining). Both are public: probes carry no API key.
 */
import type { FastifyInstance } from 'fastify';
import { NotReadyError } from '../errors';

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/healthz', { config: { public: true, rateLimit: false } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: { public: true, rateLimit: false } }, async () => {
    if (app.lifecycle.draining) throw new NotReadyError('The service is shutting down');
    const modelsReady = app.models.readyCount;
    if (modelsReady === 0) throw new NotReadyError('No model version is loaded yet');
    if (app.detector.state !== 'ready') throw new NotReadyError(`The face detector is ${app.detector.state}`);
    return { status: 'ready', models_ready: modelsReady, detector: app.detector.state };
  });
}
