/**
 * The draining state of a shutting-down service: once `close()` starts (or server.ts announces a
 * signal), /readyz answers 503 so load balancers stop sending traffic, and new /predict requests
 * get 503 NOT_READY while the ones already accepted finish.
 */
import fp from 'fastify-plugin';
import { NotReadyError } from '../../errors';

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: Lifecycle;
  }
}

export class Lifecycle {
  private drainingSince: number | null = null;

  get draining(): boolean {
    return this.drainingSince !== null;
  }

  /** Idempotent: the first call wins. */
  startDraining(): void {
    this.drainingSince ??= Date.now();
  }
}

export default fp(
  async (app) => {
    const lifecycle = new Lifecycle();
    app.decorate('lifecycle', lifecycle);
    app.addHook('preClose', async () => lifecycle.startDraining());
    app.addHook('onRequest', async (request, reply) => {
      if (!lifecycle.draining || request.routeOptions.config?.public) return;
      reply.header('connection', 'close');
      throw new NotReadyError('The service is shutting down');
    });
  },
  { name: 'lifecycle' },
);
