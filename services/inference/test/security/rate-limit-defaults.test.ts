/**
 * Rate limiting's defaults and the client address behind a proxy, over real HTTP (issue 16, item 9):
 * no limit unless RATE_LIMIT_MAX is set (one client usefully sends hundreds of requests a second,
 * and behind a proxy every client shares its address); with TRUST_PROXY naming the proxy, clients
 * are told apart by X-Forwarded-For, and without it the header is ignored (a client cannot pick
 * its own budget by sending one).
 */
import { startService, type TestService } from '../helpers/service';

const TEST_TIMEOUT_MS = 60_000;
/** More requests than the old default allowed per minute (600). */
const BURST = 650;
const RATE_LIMIT = 3;
const PARALLEL = 10;

/**
 * GET /models as the client at `forwardedFor` (through a proxy on loopback), `count` times,
 * `parallel` at a time.
 */
async function statuses(
  service: TestService,
  count: number,
  forwardedFor?: string,
  parallel = 1,
): Promise<number[]> {
  const headers = forwardedFor ? { 'x-forwarded-for': forwardedFor } : undefined;
  const out: number[] = [];
  for (let sent = 0; sent < count; sent += parallel) {
    const batch = Array.from({ length: Math.min(parallel, count - sent) }, async () => {
      return (await service.request('GET', '/models', { headers })).status;
    });
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

test(
  'no rate limit unless RATE_LIMIT_MAX is set',
  async () => {
    // An empty variable is unset: the built-in default applies.
    const service = await startService({ env: { RATE_LIMIT_MAX: '' }, waitFor: 'nothing' });
    try {
      expect(service.app.hasPlugin('@fastify/rate-limit')).toBe(false);
      const answered = await statuses(service, BURST, undefined, PARALLEL);
      expect(answered.filter((status) => status !== 200)).toEqual([]);
    } finally {
      await service.close();
    }
  },
  TEST_TIMEOUT_MS,
);

test(
  'with TRUST_PROXY, clients behind the proxy have their own budgets',
  async () => {
    const service = await startService({
      env: { RATE_LIMIT_MAX: String(RATE_LIMIT), TRUST_PROXY: '127.0.0.1' },
      waitFor: 'nothing',
    });
    try {
      expect(await statuses(service, RATE_LIMIT + 1, '10.0.0.1')).toEqual([
        ...Array(RATE_LIMIT).fill(200),
        429,
      ]);
      expect(await statuses(service, 1, '10.0.0.2')).toEqual([200]);
    } finally {
      await service.close();
    }
  },
  TEST_TIMEOUT_MS,
);

test(
  'without TRUST_PROXY, X-Forwarded-For is ignored: one address, one budget',
  async () => {
    const service = await startService({ env: { RATE_LIMIT_MAX: String(RATE_LIMIT) }, waitFor: 'nothing' });
    try {
      expect(await statuses(service, RATE_LIMIT, '10.0.0.1')).toEqual(Array(RATE_LIMIT).fill(200));
      expect(await statuses(service, 1, '10.0.0.2')).toEqual([429]);
    } finally {
      await service.close();
    }
  },
  TEST_TIMEOUT_MS,
);
