/**
 * Security headers on every response (@fastify/helmet with its defaults: CSP, nosniff, frame
 * denial, HSTS...). A thin wrapper so app.ts registers external plugins in one uniform way.
 */
import type { FastifyInstance } from 'fastify';
import helmet from '@fastify/helmet';

export async function registerHelmet(app: FastifyInstance): Promise<void> {
  await app.register(helmet, { global: true });
}
