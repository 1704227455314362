/**
 * The draining state of a shutting-down service: once `close()` starts (or server.ts announces a
 * signal), /readyz answers 503 so load balancers stop sending traffic, new requests (except the
 * public probes) get 503 NOT_READY while the ones already accepted finish, and every answer closes
 * its connection so close() need not wait for idle keep-alive sockets.
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
    app.addHook('onRequest', async (request) => {
      if (!lifecycle.draining || request.routeOptions.config?.public) return;
      throw new NotReadyError('The service is shutting down');
    });
    // Keep-alive connections would hold close() open until they time out: while draining, every
    // answer (including those of requests accepted before) closes its connection.
    app.addHook('onSend', async (_request, reply) => {
      if (lifecycle.draining) reply.header('connection', 'close');
    });
  },
  { name: 'lifecycle' },
);
