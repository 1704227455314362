/**
 * The dynamic batching policy of DESIGN §5 as pure functions of the queue and the clock: when to
 * dispatch, how many items to take, whom to admit, which items are stale. `batch-queue.ts` is the
 * thin shell that owns timers and the runtime; keeping the decisions here makes them testable
 * without either.
 */

export interface BatchPolicy {
  /** A batch is dispatched as soon as this many items wait. */
  maxBatchSize: number;
  /** ...or when the oldest waiting item has waited this long. */
  maxDelayMs: number;
  /** Items allowed to wait; beyond it new requests are refused at once (503 OVERLOADED). */
  maxQueue: number;
}

/** What the policy needs to know about a waiting item. */
export interface WaitingItem {
  /** Clock time (ms) the item entered the queue. */
  enqueuedAt: number;
  /** Clock time (ms) after which nobody waits for the answer. */
  deadline: number;
  /** The request was abandoned (client gone, request failed elsewhere). */
  cancelled: boolean;
}

export type Decision =
  /** Run a batch of the first `count` items now. */
  | { kind: 'dispatch'; count: number }
  /** Nothing to do before clock time `at` (ms), unless an item arrives. */
  | { kind: 'wait'; at: number }
  /** Nothing to do until an item arrives or the running batch finishes. */
  | { kind: 'idle' };

/**
 * The next step for a queue. One batch at a time: while one runs, the answer is `idle` and the
 * queue is looked at again when it finishes. Draining dispatches without waiting for the delay.
 *
 * @example decide([{ enqueuedAt: 0, deadline: 1e9, cancelled: false }], 5, false, { maxBatchSize: 8, maxDelayMs: 4, maxQueue: 64 }, false)
 * // { kind: 'dispatch', count: 1 }  (the oldest item has waited 5 ms >= 4 ms)
 */
export function decide(
  queue: readonly WaitingItem[],
  now: number,
  busy: boolean,
  policy: BatchPolicy,
  draining: boolean,
): Decision {
  if (busy || queue.length === 0) return { kind: 'idle' };
  const count = Math.min(queue.length, policy.maxBatchSize);
  const dueAt = queue[0].enqueuedAt + policy.maxDelayMs;
  if (draining || queue.length >= policy.maxBatchSize || now >= dueAt) return { kind: 'dispatch', count };
  return { kind: 'wait', at: dueAt };
}

/**
 * Whether `incoming` new items may join a queue holding `waiting` items. A request bigger than the
 * whole queue is still admitted into an empty queue, so no request is unservable by construction.
 *
 * @example admits(60, 8, { maxBatchSize: 8, maxDelayMs: 4, maxQueue: 64 }) // false
 */
export function admits(waiting: number, incoming: number, policy: BatchPolicy): boolean {
  return waiting === 0 || waiting + incoming <= policy.maxQueue;
}

/**
 * Splits the items about to be dispatched into those still wanted and those that would waste
 * compute (cancelled, or past their deadline).
 *
 * @example splitStale(items, Date.now()) // { live: [...], stale: [...] }
 */
export function splitStale<T extends WaitingItem>(
  items: readonly T[],
  now: number,
): { live: T[]; stale: T[] } {
  const live: T[] = [];
  const stale: T[] = [];
  for (const item of items) (item.cancelled || item.deadline <= now ? stale : live).push(item);
  return { live, stale };
}

/**
 * Seconds a refused client should wait: the time the queue ahead of it needs at the recent batch
 * speed, at least one second.
 *
 * @example retryAfterSeconds(64, 8, 250) // 2  (8 batches of 250 ms)
 */
export function retryAfterSeconds(waiting: number, maxBatchSize: number, recentBatchMs: number): number {
  const batches = Math.ceil(waiting / Math.max(1, maxBatchSize));
  return Math.max(1, Math.ceil((batches * Math.max(0, recentBatchMs)) / 1000));
}
