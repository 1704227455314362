/**
 * The image of a multipart/form-data upload: exactly one file, in the field `image`, among at most
 * a few small fields. Parsed with busboy (the parser @fastify/multipart wraps) straight from the
 * request's body stream, after the body guard: so the whole body, not only the file, is bounded
 * by MAX_BODY_BYTES, and the framing by the limits below. The plugin could not do that: it reads
 * the socket's stream itself, around every hook.
 */
import type { Readable } from 'node:stream';
import { Busboy, type BusboyHeaders } from '@fastify/busboy';
import { InvalidRequestError, PayloadTooLargeError } from '../errors';
import type { FramingLimits } from './multipart-framing';

export const IMAGE_FIELD = 'image';

/** Non-file fields are not used by the API; a few small ones are tolerated (browsers add some). */
export const MAX_FIELDS = 10;
export const MAX_PARTS = MAX_FIELDS + 1;
/** Part header lines (Content-Disposition, Content-Type, a few more). */
const MAX_HEADER_PAIRS = 16;

/** The framing limits (multipart-framing.ts): generous for any browser or HTTP client, small for the rest. */
export const MULTIPART_FRAMING_LIMITS: Readonly<FramingLimits> = Object.freeze({
  preambleBytes: 1024,
  partHeaderBytes: 8 * 1024,
  fieldBytes: 1024,
  epilogueBytes: 1024,
});

/** Field names that would shadow Object.prototype in a naive form object: refused, as the plugin did. */
const pollutes = (name: string) => name in Object.prototype;

/**
 * Reads the image file out of a multipart body.
 *
 * @example const image = await readMultipartImage(payload, request.headers, 10 * 1024 * 1024);
 * @throws InvalidRequestError (400) for a malformed body, a missing, misnamed, second or empty
 *         file, too many parts or fields; PayloadTooLargeError (413) for a file over `maxFileBytes`;
 *         whatever error the body stream fails with (the body guard's 413, an aborted upload).
 */
export function readMultipartImage(
  payload: Readable,
  headers: BusboyHeaders,
  maxFileBytes: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let parser: ReturnType<typeof Busboy>;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      payload.unpipe(parser);
      reject(error);
    };
    try {
      parser = Busboy({
        headers,
        limits: {
          fileSize: maxFileBytes,
          files: 1,
          fields: MAX_FIELDS,
          fieldSize: MULTIPART_FRAMING_LIMITS.fieldBytes,
          parts: MAX_PARTS,
          headerPairs: MAX_HEADER_PAIRS,
          headerSize: MULTIPART_FRAMING_LIMITS.partHeaderBytes,
        },
      });
    } catch (error) {
      reject(new InvalidRequestError(`The multipart body is malformed: ${(error as Error).message}`));
      return;
    }
    const chunks: Buffer[] = [];
    let sawImage = false;
    parser.on('file', (field, file) => {
      // A part cut short emits an error on its file stream: unhandled, it would end the process.
      file.on('error', (error: Error) =>
        fail(new InvalidRequestError(`The multipart body is malformed: ${error.message}`)),
      );
      if (pollutes(field)) {
        file.resume();
        fail(new InvalidRequestError('Invalid multipart field name'));
      } else if (field !== IMAGE_FIELD) {
        // A misnamed field is a client bug worth naming.
        file.resume();
        fail(new InvalidRequestError(`Unexpected file field "${field}"; send the image in "${IMAGE_FIELD}"`));
      } else {
        sawImage = true;
        file.on('data', (chunk: Buffer) => chunks.push(chunk));
        file.on('limit', () => fail(new PayloadTooLargeError(maxFileBytes, `The file in "${IMAGE_FIELD}"`)));
      }
    });
    parser.on('field', (name) => {
      if (pollutes(name)) fail(new InvalidRequestError('Invalid multipart field name'));
    });
    parser.on('partsLimit', () => fail(new InvalidRequestError('Too many multipart parts')));
    parser.on('filesLimit', () =>
      fail(new InvalidRequestError(`Send exactly one file, in the "${IMAGE_FIELD}" field`)),
    );
    parser.on('fieldsLimit', () => fail(new InvalidRequestError('Too many multipart fields')));
    parser.on('error', (error: Error) =>
      fail(new InvalidRequestError(`The multipart body is malformed: ${error.message}`)),
    );
    // Every file's data has been delivered when the parser finishes.
    parser.on('finish', () => {
      if (!sawImage)
        fail(new InvalidRequestError(`The multipart body has no file in the "${IMAGE_FIELD}" field`));
      else if (chunks.length === 0) fail(new InvalidRequestError(`The file in "${IMAGE_FIELD}" is empty`));
      else if (!settled) {
        settled = true;
        resolve(Buffer.concat(chunks));
      }
    });
    payload.on('error', fail);
    payload.pipe(parser);
  });
}
