import { defaultModelName, pickVersion, versionsToLoad, type VersionStatus } from '../../src/models/select-versions';

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

describe('defaultModelName', () => {
  test('configured when the registry has it, else the first ready model by name, else the first by name', () => {
    expect(defaultModelName(['b', 'a', 'z'], () => false, 'z')).toBe('z');
    expect(defaultModelName(['b', 'a'], () => true, 'z')).toBe('a');
    expect(defaultModelName(['b', 'a'], (n) => n === 'b', 'z')).toBe('b');
    expect(defaultModelName(['c', 'b', 'a'], (n) => n !== 'a', null)).toBe('b');
    expect(defaultModelName(['b', 'a'], () => false, null)).toBe('a');
    expect(defaultModelName([], () => false, null)).toBeNull();
  });
});
