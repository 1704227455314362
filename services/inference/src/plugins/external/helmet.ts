/**
 * Security headers on every response (@fastify/helmet: CSP, nosniff, frame denial, HSTS...). The
 * service speaks plain HTTP unless a proxy terminates TLS in front of it, so the CSP must not ask
 * browsers to upgrade its own same-origin requests to https (that would break /docs on a LAN
 * address).
 */
import type { FastifyInstance } from 'fastify';
import helmet from '@fastify/helmet';

export async function registerHelmet(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  });
}
