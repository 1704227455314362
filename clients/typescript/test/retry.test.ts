import { DEFAULT_RETRY, retryAfterMs, retryDelayMs } from '../src/retry';

const noJitter = () => 0;

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates, and nothing else', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(' 0 ')).toBe(0);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:03 GMT', now)).toBe(3000);
    expect(retryAfterMs('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0); // in the past: at once
    expect(retryAfterMs(null)).toBeNull();
    expect(retryAfterMs('soon')).toBeNull();
  });
});

describe('retryDelayMs', () => {
  it('waits what Retry-After says on 503 and 429, plus jitter below jitterMs', () => {
    expect(retryDelayMs({ status: 503, retryAfter: '1' }, 1, DEFAULT_RETRY, noJitter)).toBe(1000);
    expect(retryDelayMs({ status: 429, retryAfter: '3' }, 2, DEFAULT_RETRY, noJitter)).toBe(3000);
    expect(retryDelayMs({ status: 503, retryAfter: '1' }, 1, DEFAULT_RETRY, () => 0.999)).toBe(
      1000 + DEFAULT_RETRY.jitterMs - 1,
    );
  });

  it('backs off exponentially without Retry-After', () => {
    const delays = [1, 2, 3].map((attempt) =>
      retryDelayMs({ status: 503, retryAfter: null }, attempt, DEFAULT_RETRY, noJitter),
    );
    expect(delays).toEqual([500, 1000, 2000]);
  });

  it('gives up after the retries, beyond maxDelayMs, and on any other status', () => {
    const policy = { ...DEFAULT_RETRY, retries: 2 };
    expect(retryDelayMs({ status: 503, retryAfter: '1' }, 3, policy, noJitter)).toBeNull();
    expect(retryDelayMs({ status: 503, retryAfter: '60' }, 1, policy, noJitter)).toBeNull();
    for (const status of [400, 401, 404, 413, 415, 422, 500, 504])
      expect(retryDelayMs({ status, retryAfter: '1' }, 1, policy, noJitter)).toBeNull();
    expect(retryDelayMs({ status: 503, retryAfter: '1' }, 1, { ...policy, retries: 0 })).toBeNull();
  });
});
