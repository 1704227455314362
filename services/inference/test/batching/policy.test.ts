import fc from 'fast-check';
import {
  admits,
  decide,
  retryAfterSeconds,
  splitStale,
  type BatchPolicy,
  type WaitingItem,
} from '../../src/batching/policy';

const policy: BatchPolicy = { maxBatchSize: 4, maxDelayMs: 10, maxQueue: 8 };
const item = (enqueuedAt: number, deadline = Infinity, cancelled = false): WaitingItem => ({
  enqueuedAt,
  deadline,
  cancelled,
});

describe('decide', () => {
  test('an empty queue or a running batch means idle', () => {
    expect(decide([], 100, false, policy, false)).toEqual({ kind: 'idle' });
    expect(decide([item(0), item(0), item(0), item(0)], 100, true, policy, false)).toEqual({ kind: 'idle' });
  });

  test('a full batch is dispatched at once', () => {
    const queue = [item(0), item(1), item(2), item(3), item(4)];
    expect(decide(queue, 5, false, policy, false)).toEqual({ kind: 'dispatch', count: 4 });
  });

  test('a partial batch waits until its oldest item has waited maxDelayMs', () => {
    expect(decide([item(3), item(5)], 6, false, policy, false)).toEqual({ kind: 'wait', at: 13 });
    expect(decide([item(3), item(5)], 13, false, policy, false)).toEqual({ kind: 'dispatch', count: 2 });
  });

  test('draining dispatches without waiting', () => {
    expect(decide([item(3)], 4, false, policy, true)).toEqual({ kind: 'dispatch', count: 1 });
  });

  test('never dispatches more than maxBatchSize nor waits past the oldest item due time', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 2000 }),
        fc.integer({ min: 1, max: 16 }),
        fc.integer({ min: 0, max: 100 }),
        (times, now, maxBatchSize, maxDelayMs) => {
          const queue = [...times].sort((a, b) => a - b).map((t) => item(t));
          const p = { maxBatchSize, maxDelayMs, maxQueue: 100 };
          const d = decide(queue, now, false, p, false);
          if (d.kind === 'dispatch') {
            expect(d.count).toBe(Math.min(queue.length, maxBatchSize));
            expect(queue.length >= maxBatchSize || now >= queue[0].enqueuedAt + maxDelayMs).toBe(true);
          } else {
            expect(d).toEqual({ kind: 'wait', at: queue[0].enqueuedAt + maxDelayMs });
            expect(now).toBeLessThan(queue[0].enqueuedAt + maxDelayMs);
          }
        },
      ),
    );
  });
});

describe('admits', () => {
  test('bounds the queue', () => {
    expect(admits(7, 1, policy)).toBe(true);
    expect(admits(8, 1, policy)).toBe(false);
    expect(admits(6, 3, policy)).toBe(false);
  });

  test('a request larger than the whole queue still enters an empty queue', () => {
    expect(admits(0, 20, policy)).toBe(true);
  });
});

describe('splitStale', () => {
  test('drops cancelled items and items past their deadline', () => {
    const live = item(0, 50);
    const late = item(0, 10);
    const gone = item(0, 100, true);
    expect(splitStale([live, late, gone], 20)).toEqual({ live: [live], stale: [late, gone] });
  });
});

describe('retryAfterSeconds', () => {
  test('is the time the queue ahead needs, at least one second', () => {
    expect(retryAfterSeconds(64, 8, 250)).toBe(2);
    expect(retryAfterSeconds(1, 8, 10)).toBe(1);
    expect(retryAfterSeconds(0, 8, 0)).toBe(1);
  });
});
