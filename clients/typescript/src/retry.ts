/**
 * When to send a refused request again. The service answers 503 (OVERLOADED, NOT_READY) and 429
 * (RATE_LIMITED) with `Retry-After`; a client that honours it waits that long, no less, and gives up
 * after a bounded number of tries or when asked to wait longer than it is willing to.
 */

export interface RetryPolicy {
  /** Tries after the first (default 3); 0 never retries. */
  retries: number;
  /** The longest single wait; a Retry-After beyond it ends the retries (default 10 s). */
  maxDelayMs: number;
  /** Added at random to each wait so that many clients do not come back at the same instant. */
  jitterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 3, maxDelayMs: 10_000, jitterMs: 250 };
/** Statuses a request is tried again after. */
export const RETRYABLE_STATUSES: readonly number[] = [429, 503];
/** Without a Retry-After: 0.5 s, 1 s, 2 s... */
const BASE_DELAY_MS = 500;

/**
 * Seconds (or an HTTP date) of a Retry-After header, in milliseconds from `now`; null when absent
 * or unreadable.
 *
 * @example retryAfterMs('2') // 2000
 */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (header === null || header.trim() === '') return null;
  if (/^\d+$/.test(header.trim())) return Number(header) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/**
 * How long to wait before retry number `attempt` (1 for the first retry), or null to give up.
 *
 * @example retryDelayMs({ status: 503, retryAfter: '1' }, 1, DEFAULT_RETRY, () => 0) // 1000
 * @example retryDelayMs({ status: 503, retryAfter: '60' }, 1, DEFAULT_RETRY) // null: longer than maxDelayMs
 */
export function retryDelayMs(
  answer: { status: number; retryAfter: string | null },
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number | null {
  if (!RETRYABLE_STATUSES.includes(answer.status) || attempt > policy.retries) return null;
  const asked = retryAfterMs(answer.retryAfter);
  const wait = asked ?? BASE_DELAY_MS * 2 ** (attempt - 1);
  if (wait > policy.maxDelayMs) return null;
  return wait + Math.floor(random() * policy.jitterMs);
}
