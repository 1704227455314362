import {
  pickVersion,
  resolveDefault,
  versionsToLoad,
  type Pick,
  type VersionStatus,
} from '../../src/models/select-versions';

const statuses = (entries: [number, VersionStatus][]) => new Map(entries);

describe('versionsToLoad', () => {
  test('keeps the newest N, or all with 0', () => {
    expect(versionsToLoad([7, 1, 5, 2], 2)).toEqual([5, 7]);
    expect(versionsToLoad([3, 1, 2], 0)).toEqual([1, 2, 3]);
    expect(versionsToLoad([], 3)).toEqual([]);
  });
});

describe('pickVersion', () => {
  test('the default is the highest ready version', () => {
    expect(pickVersion(statuses([[1, 'ready'], [2, 'ready'], [3, 'loading']]))).toEqual({ kind: 'ready', version: 2 });
    expect(pickVersion(statuses([[1, 'ready'], [2, 'failed']]))).toEqual({ kind: 'ready', version: 1 });
  });

  test('a model with nothing ready is loading or unavailable', () => {
    expect(pickVersion(statuses([[1, 'loading']]))).toEqual({ kind: 'loading' });
    expect(pickVersion(statuses([[1, 'failed']])).kind).toBe('unavailable');
    expect(pickVersion(statuses([]))).toEqual({ kind: 'absent' });
  });

  test('a pinned version is served only when ready', () => {
    const s = statuses([[1, 'ready'], [2, 'failed'], [3, 'not_loaded'], [4, 'loading']]);
    expect(pickVersion(s, 1)).toEqual({ kind: 'ready', version: 1 });
    expect(pickVersion(s, 2).kind).toBe('unavailable');
    expect(pickVersion(s, 3).kind).toBe('unavailable');
    expect(pickVersion(s, 4)).toEqual({ kind: 'loading' });
    expect(pickVersion(s, 9)).toEqual({ kind: 'absent' });
  });
});

describe('resolveDefault', () => {
  const ready: Pick = { kind: 'ready', version: 1 };
  /** Picks from a table of each model's pick; models not in it are absent. */
  const picks =
    (table: Record<string, Pick>) =>
    (name: string): Pick =>
      table[name] ?? { kind: 'absent' };

  test('the configured default serves while it has a ready version', () => {
    expect(resolveDefault(['a', 'z'], picks({ a: ready, z: ready }), { configured: 'z', fallback: 'a' })).toEqual({
      model: 'z',
      failover: null,
    });
  });

  test('without a ready version it fails over to the fallback model, saying why', () => {
    const failed: Pick = { kind: 'unavailable', reason: 'has no version that loaded (see GET /models)' };
    expect(
      resolveDefault(['a', 'b', 'z'], picks({ a: ready, b: ready, z: failed }), { configured: 'z', fallback: 'b' }),
    ).toEqual({ model: 'b', failover: { configured: 'z', reason: failed.reason } });
    expect(
      resolveDefault(['a', 'z'], picks({ a: ready, z: { kind: 'loading' } }), { configured: 'z', fallback: null }),
    ).toEqual({ model: 'a', failover: { configured: 'z', reason: 'is loading' } });
  });

  test('a fallback that cannot serve either gives way to the first ready model by name', () => {
    expect(
      resolveDefault(['c', 'b', 'z'], picks({ b: ready, c: ready, z: { kind: 'loading' } }), {
        configured: 'z',
        fallback: 'y',
      }),
    ).toEqual({ model: 'b', failover: { configured: 'z', reason: 'is loading' } });
  });

  test('a configured default the registry lacks is reported as such', () => {
    expect(resolveDefault(['b', 'a'], picks({ a: ready, b: ready }), { configured: 'z', fallback: null })).toEqual({
      model: 'a',
      failover: { configured: 'z', reason: 'is not in the registry' },
    });
  });

  test('without a configured default the first ready model by name serves, and that is no failover', () => {
    expect(resolveDefault(['c', 'b', 'a'], picks({ b: ready, c: ready }), { configured: null, fallback: null })).toEqual({
      model: 'b',
      failover: null,
    });
  });

  test('nothing ready: no model, never a 404 for an unnamed one', () => {
    expect(resolveDefault(['a', 'z'], picks({ a: { kind: 'loading' } }), { configured: 'z', fallback: 'a' })).toEqual({
      model: null,
      failover: null,
    });
    expect(resolveDefault([], picks({}), { configured: null, fallback: null })).toEqual({ model: null, failover: null });
  });
});
