/**
 * Per-client rate limiting (@fastify/rate-limit): clients are told apart by their API key when
 * they send a valid one (so one NAT'ed office does not share a budget), else by IP. An invalid key
 * counts against the IP, so rotating made-up keys buys nothing.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { RateLimitedError } from '../../errors';
import type { ApiKeys } from '../../security/api-keys';

export interface RateLimitSettings {
  max: number;
  windowMs: number;
}

export async function registerRateLimit(
  app: FastifyInstance,
  settings: RateLimitSettings,
  keys: ApiKeys,
): Promise<void> {
  if (settings.max === 0) return;
  await app.register(rateLimit, {
    global: true,
    max: settings.max,
    timeWindow: settings.windowMs,
    keyGenerator: (request: FastifyRequest) => {
      const id = keys.identify(request.headers['x-api-key']);
      return id === null ? `ip:${request.ip}` : `key:${id}`;
    },
    errorResponseBuilder: (_request, context) =>
      new RateLimitedError(
        `Rate limit exceeded: ${context.max} requests per ${context.after}`,
        Math.max(1, Math.ceil(context.ttl / 1000)),
      ),
  });
}
