/**
 * The connection side of a graceful shutdown. `http.Server#close()` (which Fastify's close calls)
 * destroys idle keep-alive connections at once; a client that is sending its next request on one
 * at that moment loses it ("other side closed", nothing a POST client retries). A draining service
 * answers every request with `Connection: close`, so a busy client closes its connection after its
 * next answer: waiting for that before the final close leaves the race only to clients idle for
 * the whole grace period.
 */
import net from 'node:net';
import type { Server } from 'node:http';

/** The longest a drain waits for clients to close their keep-alive connections themselves. */
export const CONNECTION_GRACE_MS = 5_000;

/**
 * Stops accepting new connections (they are refused from now on) while the open ones stay up, and
 * resolves once every open connection has closed or `graceMs` has passed, whichever comes first.
 *
 * @example await stopAccepting(app.server, 5000); await app.close();
 */
export function stopAccepting(server: Server, graceMs: number): Promise<'all-closed' | 'grace-elapsed'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('grace-elapsed'), graceMs);
    // net.Server's own close: stop listening, keep the connections, call back when the last ends.
    net.Server.prototype.close.call(server, () => {
      clearTimeout(timer);
      resolve('all-closed');
    });
  });
}
