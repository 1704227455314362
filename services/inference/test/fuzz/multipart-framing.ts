/**
 * Random multipart/form-data framings for the fuzzer: boundaries, quoting, part lists (files,
 * fields, misnamed and prototype-polluting names, octet-stream parts without a file name), line
 * endings, preambles and epilogues, missing or broken closing delimiters, truncated bodies and odd
 * Content-Type headers. `serialize` turns a framing into bytes; `expectedStatuses` is the oracle:
 * the statuses the API contract allows for that body, exact where the framing is well formed.
 */
import fc from 'fast-check';

export type PartBody = 'image' | 'random' | 'empty' | 'text';

export interface PartSpec {
  name: string;
  /** null: no filename parameter (a field, unless its type is application/octet-stream). */
  filename: string | null;
  contentType: string | null;
  body: PartBody;
  randomBytes: number[];
}

export interface FramingSpec {
  boundary: string;
  headerBoundary: 'same' | 'quoted' | 'missing' | 'other';
  mediaTypeCase: 'lower' | 'upper';
  parts: PartSpec[];
  lineEnding: 'crlf' | 'lf';
  preamble: string;
  epilogue: string;
  closing: 'proper' | 'missing' | 'no-final-newline' | 'garbled';
  /** Keep only this many bytes of the body (modulo its length); null keeps it whole. */
  truncateAt: number | null;
}

/** Limits of the service's multipart reader (src/predict/read-multipart.ts). */
const MAX_FIELDS = 10;
const MAX_PARTS = MAX_FIELDS + 1;
const MAX_FIELD_BYTES = 1024;

/** Characters RFC 2046 allows in a boundary (without the space, which may not end one). */
const BOUNDARY_CHARS = [..."0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=?"];
const NAME_CHARS = [...'abcdefghijklmnopqrstuvwxyz0123456789_-'];

const token = (chars: string[], minLength: number, maxLength: number) =>
  fc.array(fc.constantFrom(...chars), { minLength, maxLength }).map((c) => c.join(''));

const partArbitrary: fc.Arbitrary<PartSpec> = fc.record({
  name: fc.oneof(
    { arbitrary: fc.constant('image'), weight: 6 },
    { arbitrary: fc.constantFrom('photo', 'file', 'Image', ''), weight: 2 },
    { arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'prototype'), weight: 1 },
    { arbitrary: token(NAME_CHARS, 1, 12), weight: 2 },
  ),
  filename: fc.oneof(
    { arbitrary: fc.constant('face.png'), weight: 4 },
    { arbitrary: fc.constant(null), weight: 3 },
    {
      arbitrary: fc.constantFrom('../../etc/passwd', 'C:\\x\\y.png', '', ' .png', 'a'.repeat(300)),
      weight: 1,
    },
  ),
  contentType: fc.constantFrom(null, 'image/png', 'image/jpeg', 'application/octet-stream', 'text/plain'),
  body: fc.oneof(
    { arbitrary: fc.constant<PartBody>('image'), weight: 5 },
    { arbitrary: fc.constantFrom<PartBody>('random', 'empty', 'text'), weight: 2 },
  ),
  randomBytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 64 }),
});

/** The one part a good upload has. */
const IMAGE_PART: PartSpec = {
  name: 'image',
  filename: 'face.png',
  contentType: 'image/png',
  body: 'image',
  randomBytes: [0],
};

/** A text field, as forms add (never a file). */
const fieldArbitrary: fc.Arbitrary<PartSpec> = fc.record({
  name: token(NAME_CHARS, 1, 12),
  filename: fc.constant(null),
  contentType: fc.constantFrom(null, 'text/plain'),
  body: fc.constant<PartBody>('text'),
  randomBytes: fc.constant([0]),
});

export const framingArbitrary: fc.Arbitrary<FramingSpec> = fc.record({
  boundary: token(BOUNDARY_CHARS, 1, 70),
  headerBoundary: fc.oneof(
    { arbitrary: fc.constantFrom<FramingSpec['headerBoundary']>('same', 'quoted'), weight: 8 },
    { arbitrary: fc.constantFrom<FramingSpec['headerBoundary']>('missing', 'other'), weight: 1 },
  ),
  mediaTypeCase: fc.oneof(
    { arbitrary: fc.constant<FramingSpec['mediaTypeCase']>('lower'), weight: 8 },
    { arbitrary: fc.constant<FramingSpec['mediaTypeCase']>('upper'), weight: 1 },
  ),
  parts: fc.oneof(
    // The upload a browser makes, among a few ordinary fields placed anywhere.
    {
      arbitrary: fc
        .tuple(fc.array(fieldArbitrary, { maxLength: 3 }), fc.nat())
        .map(([fields, at]) => [
          ...fields.slice(0, at % (fields.length + 1)),
          IMAGE_PART,
          ...fields.slice(at % (fields.length + 1)),
        ]),
      weight: 5,
    },
    { arbitrary: fc.array(partArbitrary, { minLength: 0, maxLength: 3 }), weight: 4 },
    { arbitrary: fc.array(partArbitrary, { minLength: 10, maxLength: 14 }), weight: 1 },
  ),
  lineEnding: fc.oneof(
    { arbitrary: fc.constant<FramingSpec['lineEnding']>('crlf'), weight: 8 },
    { arbitrary: fc.constant<FramingSpec['lineEnding']>('lf'), weight: 1 },
  ),
  preamble: fc.constantFrom('', 'This is a preamble.\r\n', '\r\n'),
  epilogue: fc.constantFrom('', '\r\n', 'epilogue'),
  closing: fc.oneof(
    { arbitrary: fc.constantFrom<FramingSpec['closing']>('proper', 'no-final-newline'), weight: 8 },
    { arbitrary: fc.constantFrom<FramingSpec['closing']>('missing', 'garbled'), weight: 2 },
  ),
  truncateAt: fc.oneof(
    { arbitrary: fc.constant(null), weight: 8 },
    { arbitrary: fc.integer({ min: 0, max: 100_000 }), weight: 1 },
  ),
});

/** The Content-Type header for a framing. */
export function contentTypeOf(spec: FramingSpec): string {
  const type = spec.mediaTypeCase === 'lower' ? 'multipart/form-data' : 'MULTIPART/FORM-DATA';
  switch (spec.headerBoundary) {
    case 'same':
      return `${type}; boundary=${spec.boundary}`;
    case 'quoted':
      return `${type}; boundary="${spec.boundary}"`;
    case 'missing':
      return type;
    case 'other':
      return `${type}; boundary=${spec.boundary}x`;
  }
}

function bodyBytes(part: PartSpec, image: Buffer): Buffer {
  switch (part.body) {
    case 'image':
      return image;
    case 'random':
      return Buffer.from(part.randomBytes);
    case 'empty':
      return Buffer.alloc(0);
    case 'text':
      return Buffer.from('hello, not an image');
  }
}

/**
 * The body bytes of a framing, with `image` as the content of its image parts.
 *
 * @example serialize(spec, facePng) // Buffer: --boundary\r\nContent-Disposition: ...
 */
export function serialize(spec: FramingSpec, image: Buffer): Buffer {
  const eol = spec.lineEnding === 'crlf' ? '\r\n' : '\n';
  const chunks: Buffer[] = [Buffer.from(spec.preamble)];
  for (const part of spec.parts) {
    let head = `--${spec.boundary}${eol}Content-Disposition: form-data; name="${part.name}"`;
    if (part.filename !== null) head += `; filename="${part.filename}"`;
    head += eol;
    if (part.contentType !== null) head += `Content-Type: ${part.contentType}${eol}`;
    chunks.push(Buffer.from(head + eol), bodyBytes(part, image), Buffer.from(eol));
  }
  switch (spec.closing) {
    case 'proper':
      chunks.push(Buffer.from(`--${spec.boundary}--${eol}${spec.epilogue}`));
      break;
    case 'no-final-newline':
      chunks.push(Buffer.from(`--${spec.boundary}--`));
      break;
    case 'garbled':
      chunks.push(Buffer.from(`--${spec.boundary.slice(0, -1)}-x-${eol}`));
      break;
    case 'missing':
      break;
  }
  const body = Buffer.concat(chunks);
  return spec.truncateAt === null ? body : body.subarray(0, spec.truncateAt % Math.max(1, body.length));
}

const isFile = (part: PartSpec) => part.filename !== null || part.contentType === 'application/octet-stream';
/** The service refuses every name found on Object.prototype (as @fastify/multipart did). */
const pollutes = (name: string) => name in Object.prototype;

/**
 * The statuses the API may answer for a framing. Exact for well-formed bodies (200 only for
 * exactly one file, in "image", holding the image); broken framings must be 400, or 413 when the
 * broken framing makes a part of it longer than its limit (a header block that never ends, a
 * boundary that never comes). A field (non-file part) longer than its limit is refused with 413
 * while the body streams in, before or after another refusal the parser makes.
 */
export function expectedStatuses(spec: FramingSpec, image: Buffer): number[] {
  // Header forms whose reading is up to the parser: any clean answer will do.
  const needsQuotes = /[()<>@,;:\\"/[\]?=]/.test(spec.boundary);
  if (spec.mediaTypeCase !== 'lower' || (spec.headerBoundary === 'same' && needsQuotes)) {
    return [200, 400, 413, 415, 422];
  }
  const framed = spec.lineEnding === 'crlf' && spec.truncateAt === null;
  const delimited = spec.headerBoundary === 'same' || spec.headerBoundary === 'quoted';
  if (spec.headerBoundary === 'missing') return [400];
  if (!delimited || !framed || spec.closing === 'missing' || spec.closing === 'garbled') {
    // The parser may hit the break before or after the one good file: a clean refusal either way.
    return [400, 413];
  }
  const base = wellFramedStatuses(spec);
  const longField = spec.parts.some((p) => !isFile(p) && bodyBytes(p, image).length > MAX_FIELD_BYTES);
  if (!longField) return base;
  return base.includes(400) ? [400, 413] : [413];
}

function wellFramedStatuses(spec: FramingSpec): number[] {
  // Parser refusals come before anything is decoded.
  if (spec.parts.some((p) => pollutes(p.name))) return [400];
  if (spec.parts.length > MAX_PARTS || spec.parts.filter((p) => !isFile(p)).length > MAX_FIELDS) return [400];
  const files = spec.parts.filter(isFile);
  if (files.length !== 1 || files[0].name !== 'image') return [400];
  switch (files[0].body) {
    case 'image':
      return [200];
    case 'empty':
      return [400];
    case 'text':
      return [422];
    case 'random':
      return [415, 422];
  }
}
