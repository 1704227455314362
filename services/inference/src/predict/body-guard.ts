/**
 * The one bound on request bodies: MAX_BODY_BYTES for the whole body of every request, whatever
 * its content type, checked from the declared Content-Length before a byte is read and counted as
 * a chunked body streams in; for multipart bodies also the framing limits (multipart-framing.ts).
 * Fastify's own body limit only covers the parsers that buffer a body themselves.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { PayloadTooLargeError } from '../errors';
import { MultipartFramingScanner, type FramingLimits, type FramingViolation } from './multipart-framing';

/** What each framing limit is called in the 413 message. */
const FRAMING_PARTS: Readonly<Record<keyof FramingLimits, string>> = {
  preambleBytes: 'the multipart preamble (before the first boundary)',
  partHeaderBytes: 'a multipart part header',
  fieldBytes: 'a multipart field value',
  epilogueBytes: 'the multipart epilogue (after the closing boundary)',
};

/** The 413 for a framing part over its limit. */
export function framingTooLarge(violation: FramingViolation): PayloadTooLargeError {
  return new PayloadTooLargeError(violation.max, FRAMING_PARTS[violation.limit]);
}

/**
 * True when the request declares a body longer than `limit` bytes.
 *
 * @example declaresTooLarge({ 'content-length': '20000000' }, 10485760) // true
 */
export function declaresTooLarge(headers: { 'content-length'?: string }, limit: number): boolean {
  const declared = Number(headers['content-length']);
  return Number.isFinite(declared) && declared > limit;
}

/**
 * Passes a request body through unchanged, and fails (PayloadTooLargeError) as soon as more than
 * `limit` bytes have come, or a multipart framing limit is broken.
 *
 * @example request.raw.pipe(new BodyGuard(10 * 1024 * 1024, scanner))
 */
export class BodyGuard extends Transform {
  /** Bytes received, for Fastify's Content-Length check (it reads this property on preParsing streams). */
  receivedEncodedLength = 0;

  constructor(
    private readonly limit: number,
    private readonly framing: MultipartFramingScanner | null = null,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.receivedEncodedLength += chunk.length;
    if (this.receivedEncodedLength > this.limit) {
      callback(new PayloadTooLargeError(this.limit));
      return;
    }
    const violation = this.framing?.push(chunk) ?? null;
    if (violation) {
      callback(framingTooLarge(violation));
      return;
    }
    callback(null, chunk);
  }
}
