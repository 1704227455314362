/**
 * Size limits on the framing of a multipart/form-data body, checked as the bytes stream in. The
 * multipart parser (busboy) skips a preamble and an epilogue of any length and silently truncates
 * over-long part headers and field values, reading every byte of them first: a client could make
 * the service read megabytes that are not the image. This scanner follows the framing (boundary
 * lines, part headers, part bodies) and reports the first part of it over its limit, so the upload
 * is refused while those bytes are still arriving. It only measures; parsing stays busboy's.
 */

export interface FramingLimits {
  /** Bytes before the first boundary (browsers send none). */
  preambleBytes: number;
  /** Bytes of one part's header block (Content-Disposition, Content-Type...). */
  partHeaderBytes: number;
  /** Bytes of the value of a part that is not a file. */
  fieldBytes: number;
  /** Bytes after the closing boundary. */
  epilogueBytes: number;
}

/** Which limit a body broke. */
export interface FramingViolation {
  limit: keyof FramingLimits;
  max: number;
}

type State = 'preamble' | 'after-boundary' | 'headers' | 'body' | 'epilogue';

const HEADERS_END = Buffer.from('\r\n\r\n');
/** Busboy treats a part as a file when it has a file name or is application/octet-stream. */
const FILE_PART = /filename|application\/octet-stream/i;

/**
 * The boundary parameter of a multipart Content-Type, quoted or not, or null.
 *
 * @example boundaryOf('multipart/form-data; boundary="a b"') // 'a b'
 */
export function boundaryOf(contentType: string | undefined): string | null {
  const match = /;\s*boundary=(?:"([^"]{1,200})"|([^;\s]{1,200}))/i.exec(contentType ?? '');
  return match ? (match[1] ?? match[2]) : null;
}

/**
 * Feeds a multipart body through, chunk by chunk, and says when a part of its framing goes over
 * its limit. Chunks may split the body anywhere.
 *
 * @example
 * const scanner = new MultipartFramingScanner('xyz', limits);
 * scanner.push(chunk) // null, or { limit: 'preambleBytes', max: 1024 }
 */
export class MultipartFramingScanner {
  private state: State = 'preamble';
  /** Bytes of the current segment (preamble, header block, field value, epilogue) so far. */
  private bytes = 0;
  /** The current part's header block, kept (it is bounded) to tell files from fields. */
  private header = '';
  private isFile = false;
  /** The end of the previous chunk that may be the start of a delimiter. */
  private carry: Buffer = Buffer.alloc(0);
  private readonly delimiter: Buffer;
  private readonly partDelimiter: Buffer;
  private violation: FramingViolation | null = null;

  constructor(
    boundary: string,
    private readonly limits: FramingLimits,
  ) {
    this.delimiter = Buffer.from(`--${boundary}`, 'latin1');
    this.partDelimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  }

  /** The first violation seen so far (it stays). */
  push(chunk: Uint8Array): FramingViolation | null {
    if (this.violation) return this.violation;
    const data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : Buffer.from(chunk);
    this.carry = Buffer.alloc(0);
    let at = 0;
    while (at < data.length && this.violation === null) {
      switch (this.state) {
        case 'preamble':
          [at] = this.until(data, at, this.delimiter, 'preambleBytes', 'after-boundary');
          break;
        case 'after-boundary': {
          if (data.length - at < 2) {
            this.carry = data.subarray(at);
            return null;
          }
          const closing = data[at] === 0x2d && data[at + 1] === 0x2d; // "--"
          this.state = closing ? 'epilogue' : 'headers';
          this.bytes = 0;
          this.header = '';
          if (closing) at += 2;
          break;
        }
        case 'headers': {
          const start = at;
          let ended: boolean;
          [at, ended] = this.until(data, at, HEADERS_END, 'partHeaderBytes', 'body');
          this.header += data.toString('latin1', start, Math.min(at, start + this.limits.partHeaderBytes));
          if (ended) this.isFile = FILE_PART.test(this.header);
          break;
        }
        case 'body':
          [at] = this.until(
            data,
            at,
            this.partDelimiter,
            this.isFile ? null : 'fieldBytes',
            'after-boundary',
          );
          break;
        case 'epilogue':
          this.count(data.length - at, 'epilogueBytes');
          at = data.length;
          break;
      }
    }
    return this.violation;
  }

  /**
   * Consumes bytes up to and including `needle`, counting those before it against `limit`, and
   * moves to `next` when found; otherwise counts what cannot start the needle and carries the rest.
   * Returns where it stopped and whether it found the needle.
   */
  private until(
    data: Buffer,
    from: number,
    needle: Buffer,
    limit: keyof FramingLimits | null,
    next: State,
  ): [number, boolean] {
    const found = data.indexOf(needle, from);
    if (found >= 0) {
      if (limit) this.count(found - from, limit);
      this.state = next;
      this.bytes = 0;
      return [found + needle.length, true];
    }
    const keep = Math.min(needle.length - 1, data.length - from);
    if (limit) this.count(data.length - from - keep, limit);
    this.carry = Buffer.from(data.subarray(data.length - keep));
    return [data.length, false];
  }

  private count(bytes: number, limit: keyof FramingLimits): void {
    this.bytes += bytes;
    if (this.bytes > this.limits[limit]) this.violation = { limit, max: this.limits[limit] };
  }
}
