/**
 * Decorates the app with its ModelManager: the registry is scanned and models are loaded once the
 * app is ready (in the background, so health checks answer during a long load), watched while it
 * runs, and every runtime is disposed on close.
 */
import fp from 'fastify-plugin';
import type { Config } from '../../config';
import { ModelManager } from '../../models/model-manager';
import type { RuntimeFactory } from '../../runtime/types';

declare module 'fastify' {
  interface FastifyInstance {
    models: ModelManager;
  }
}

export interface ModelManagerPluginOptions {
  config: Config;
  runtimeFactory: RuntimeFactory;
}

export default fp<ModelManagerPluginOptions>(
  async (app, { config, runtimeFactory }) => {
    const { registry, runtime } = config;
    const manager = new ModelManager({
      root: registry.dir,
      versionsLoaded: registry.versionsLoaded,
      defaultModel: registry.defaultModel,
      fallbackModel: registry.fallbackModel,
      rescanMs: registry.rescanMs,
      watch: registry.watch,
      createRuntime: () =>
        runtimeFactory(runtime.kind, {
          device: runtime.device,
          threads: runtime.threads,
          tfjsBackend: runtime.tfjsBackend,
        }),
      logger: app.log.child({ component: 'models' }),
      onLoadOutcome: (name, ok) => {
        app.metrics.modelLoads.inc({ model: name, outcome: ok ? 'ok' : 'failed' });
        refreshLoadedGauge();
      },
    });
    const refreshLoadedGauge = () => {
      app.metrics.loadedVersions.reset();
      for (const model of manager.list()) {
        const ready = model.versions.filter((v) => v.status === 'ready').length;
        app.metrics.loadedVersions.set({ model: model.name }, ready);
      }
    };
    manager.onUnload(() => refreshLoadedGauge());
    app.decorate('models', manager);
    app.addHook('onReady', async () => {
      void manager.start().then(() => {
        refreshLoadedGauge();
        if (manager.readyCount === 0) {
          app.log.warn(
            { registry: registry.dir },
            'no loadable model in the registry yet: publish one (npm run train); it is picked up without a restart',
          );
        }
      });
    });
    app.addHook('onClose', async () => manager.close());
  },
  { name: 'models', dependencies: ['metrics'] },
);
