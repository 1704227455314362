/**
 * ApiKeys: opaque ids for configured keys, refusal of everything else, and comparison in constant
 * time (every configured key's digest compared with crypto.timingSafeEqual, whatever matches).
 */
import crypto from 'node:crypto';
import { ApiKeys } from '../../src/security/api-keys';

/** A SHA-256 digest is 32 bytes, whatever the key's length. */
const SHA256_BYTES = 32;

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

describe('ApiKeys compares in constant time', () => {
  const configured = ['first-key-0123456789', 'second-key-abcdefghij', 'third'];
  const keys = new ApiKeys(configured);

  afterEach(() => jest.restoreAllMocks());

  /** Every buffer pair identify() hands to crypto.timingSafeEqual for `header`. */
  function comparisons(header: string): [Buffer, Buffer][] {
    const spy = jest.spyOn(crypto, 'timingSafeEqual');
    keys.identify(header);
    const calls = spy.mock.calls.map(
      ([a, b]) => [Buffer.from(a as Buffer), Buffer.from(b as Buffer)] as [Buffer, Buffer],
    );
    spy.mockRestore();
    return calls;
  }

  test.each([
    ['the first key', configured[0]],
    ['the last key', configured[2]],
    ['a wrong key sharing a long prefix', `${configured[0].slice(0, -1)}X`],
    ['a wrong key of another length', 'x'],
    ['a much longer wrong key', 'y'.repeat(400)],
  ])(
    '%s: every configured key is compared, through timingSafeEqual, on equal-length digests',
    (_name, header) => {
      const calls = comparisons(header);
      // No early exit on a match or a mismatch: the work does not depend on where the header differs.
      expect(calls).toHaveLength(configured.length);
      for (const [a, b] of calls) {
        expect(a.length).toBe(SHA256_BYTES);
        expect(b.length).toBe(SHA256_BYTES);
        // Digests, never the key itself, are compared (and kept).
        expect(a.toString('utf8')).not.toContain(header);
      }
    },
  );
});
