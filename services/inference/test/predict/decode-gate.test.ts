import { DecodeGate } from '../../src/predict/decode-gate';
import { OverloadedError } from '../../src/errors';

const LARGE = 1_000;
const gate = () => new DecodeGate({ largePixels: LARGE, concurrency: 1, maxQueue: 2 });
/** Lets pending promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('DecodeGate', () => {
  test('small images never wait, even when every slot is taken', async () => {
    const g = gate();
    await g.acquire(LARGE + 1, new AbortController().signal);
    await expect(g.acquire(LARGE, new AbortController().signal)).resolves.toBeDefined();
    expect(g.inProgress).toBe(1);
  });

  test('large images take turns; beyond the queue they are refused with 503 OVERLOADED', async () => {
    const g = gate();
    const first = await g.acquire(LARGE + 1, new AbortController().signal);
    const order: number[] = [];
    const second = g.acquire(LARGE + 1, new AbortController().signal).then((p) => (order.push(2), p));
    const third = g.acquire(LARGE + 1, new AbortController().signal).then((p) => (order.push(3), p));
    await expect(g.acquire(LARGE + 1, new AbortController().signal)).rejects.toBeInstanceOf(OverloadedError);
    expect(g.queueDepth).toBe(2);
    first.release();
    first.release(); // idempotent: frees one slot only
    (await second).release();
    await third;
    expect(order).toEqual([2, 3]);
    expect(g.inProgress).toBe(1);
  });

  test('a request that aborts while waiting leaves the queue and is never granted a slot', async () => {
    const g = gate();
    const holder = await g.acquire(LARGE + 1, new AbortController().signal);
    const leaving = new AbortController();
    const waiting = g.acquire(LARGE + 1, leaving.signal);
    leaving.abort(new Error('timed out'));
    await expect(waiting).rejects.toThrow('timed out');
    expect(g.queueDepth).toBe(0);
    holder.release();
    await settle();
    expect(g.inProgress).toBe(0);
  });

  test('a granted slot is held until released, even when its request aborts (a decode cannot be stopped)', async () => {
    const g = gate();
    const request = new AbortController();
    const permit = await g.acquire(LARGE + 1, request.signal);
    let granted = false;
    const next = g.acquire(LARGE + 1, new AbortController().signal).then((p) => ((granted = true), p));
    request.abort(new Error('timed out'));
    await settle();
    expect(granted).toBe(false);
    permit.release();
    await expect(next).resolves.toBeDefined();
    expect(g.inProgress).toBe(1);
  });

  test('an already aborted request is refused with its reason', async () => {
    const aborted = AbortSignal.abort(new Error('gone'));
    await expect(gate().acquire(LARGE + 1, aborted)).rejects.toThrow('gone');
  });
});
