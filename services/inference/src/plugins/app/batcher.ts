/**
 * Decorates the app with the Batcher: one dynamic batching queue per loaded model version, created
 * when the model manager loads a version and drained before it unloads one. On close, queues stop
 * waiting for fuller batches so accepted requests finish quickly.
 */
import fp from 'fastify-plugin';
import { Batcher } from '../../batching/batcher';
import type { BatchPolicy } from '../../batching/policy';

declare module 'fastify' {
  interface FastifyInstance {
    batcher: Batcher;
  }
}

export interface BatcherPluginOptions {
  policy: BatchPolicy;
}

export default fp<BatcherPluginOptions>(
  async (app, { policy }) => {
    const { metrics } = app;
    const batcher = new Batcher(policy, (loaded) => {
      const labels = { model: loaded.name, version: String(loaded.version) };
      return {
        onDepth: (depth) => metrics.queueDepth.set(labels, depth),
        onBatch: (size, waitsMs, computeMs) => {
          metrics.batchSize.observe(labels, size);
          metrics.inferenceTime.observe(labels, computeMs / 1000);
          for (const wait of waitsMs) metrics.queueWait.observe(labels, wait / 1000);
        },
        onOutcome: (outcome, count) => metrics.batchItems.inc({ ...labels, outcome }, count),
      };
    });
    app.models.onLoaded((version) => batcher.attach(version));
    app.models.onUnload((version) => batcher.detach(version));
    app.decorate('batcher', batcher);
    app.addHook('preClose', async () => {
      // Not awaited: accepted requests are still arriving at their queues; draining only removes the delay.
      void batcher.drain();
    });
  },
  { name: 'batcher', dependencies: ['metrics', 'models'] },
);
