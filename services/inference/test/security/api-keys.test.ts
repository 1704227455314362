import { ApiKeys } from '../../src/security/api-keys';

describe('ApiKeys', () => {
  const keys = new ApiKeys(['first-key', 'second-key']);

  test('identifies configured keys by an opaque id', () => {
    const first = keys.identify('first-key');
    const second = keys.identify('second-key');
    expect(first).toMatch(/^[0-9a-f]{12}$/);
    expect(second).toMatch(/^[0-9a-f]{12}$/);
    expect(first).not.toBe(second);
    expect(first).not.toContain('first');
  });

  test('refuses everything else', () => {
    expect(keys.identify('first-ke')).toBeNull();
    expect(keys.identify('')).toBeNull();
    expect(keys.identify(undefined)).toBeNull();
    expect(keys.identify(['first-key'])).toBeNull();
    expect(keys.identify('x'.repeat(10_000))).toBeNull();
  });

  test('is off without keys', () => {
    expect(new ApiKeys([]).enabled).toBe(false);
    expect(keys.enabled).toBe(true);
  });
});
