/**
 * API-key checks for the optional authentication (API_KEYS). Keys are kept only as SHA-256
 * digests and compared in constant time against every configured key, so neither timing nor a
 * heap dump reveals them; callers get an opaque id for logs and rate limiting, never the key.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** Longest header value looked at; anything longer is not one of our keys. */
const MAX_KEY_LENGTH = 512;

export class ApiKeys {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest);
  }

  /** Authentication is on when at least one key is configured. */
  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /**
   * A short opaque id of the key in `header` when it is a configured key, else null.
   *
   * @example new ApiKeys(['s3cret']).identify('s3cret') // 'a1b2c3d4e5f6' (first 12 hex digits of its digest)
   */
  identify(header: string | string[] | undefined): string | null {
    if (typeof header !== 'string' || header.length === 0 || header.length > MAX_KEY_LENGTH) return null;
    const candidate = digest(header);
    let match: Buffer | null = null;
    // No early exit: every configured key is compared, whatever matches.
    for (const known of this.digests) if (timingSafeEqual(candidate, known)) match = known;
    return match === null ? null : match.toString('hex').slice(0, 12);
  }
}
