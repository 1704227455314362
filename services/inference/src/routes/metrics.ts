/** GET /metrics: the Prometheus text exposition of the app's registry. */
import type { FastifyInstance } from 'fastify';

export default async function metricsRoutes(app: FastifyInstance): Promise<void> {
  app.get('/metrics', { config: { rateLimit: false } }, async (_request, reply) => {
    app.metrics.detectorQueueDepth.set(app.detector.queueDepth);
    app.metrics.decodeQueueDepth.set(app.decodeGate.queueDepth);
    const tensors = app.detector.heldTensors;
    if (tensors !== null) app.metrics.detectorTensors.set(tensors);
    reply.type(app.metrics.registry.contentType);
    return app.metrics.registry.metrics();
  });
}
