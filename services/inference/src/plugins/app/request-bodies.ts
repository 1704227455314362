/**
 * What the service reads of request bodies, and how much. Fastify's default JSON and text parsers
 * are removed (no route takes either, and a 10 MB nested JSON body was parsed, blocking the event
 * loop, before /predict refused it): a body no route has a parser for is refused with 415 before
 * any of it is parsed. Every body passes the body guard (body-guard.ts): MAX_BODY_BYTES bounds the
 * whole body of any content type, 413 as soon as the declared or received length passes it. A
 * request answered before its body was read has the rest dropped as it arrives when it is bounded
 * (declared within the limit), and otherwise (chunked, or declared over the limit) its connection
 * closed instead of being read to its end, lingering a moment so that a client still uploading
 * reads the answer instead of a connection reset.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import fp from 'fastify-plugin';
import { PayloadTooLargeError } from '../../errors';
import { BodyGuard, declaresTooLarge } from '../../predict/body-guard';
import { boundaryOf, MultipartFramingScanner } from '../../predict/multipart-framing';
import { MULTIPART_FRAMING_LIMITS } from '../../predict/read-multipart';

/**
 * After a refused body's answer, how long the connection stays half-open before it closes. A
 * client still sending when the refusal came (it comes early) keeps writing for a moment; closing
 * at once with its bytes arriving makes the kernel reset the connection, and the client's next
 * write fails (EPIPE) before it has read the answer: a quarter of early 413s were lost that way
 * (bench:abuse). Half-closed, the client reads the answer and stops.
 */
export const LINGER_MS = 2_000;

/** Makes Node's close of `request`'s connection (after a `Connection: close` answer) a lingering one. */
function lingerOnClose(request: IncomingMessage): void {
  const socket = request.socket;
  // Node ends such an answer with socket.destroySoon(); this one half-closes, lets what still
  // arrives be read and dropped, and closes for good after LINGER_MS (or when the client does).
  socket.destroySoon = () => {
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    dropRestOfBody(request);
    socket.end();
  };
}

/**
 * Lets what remains of an unread body flow and be dropped. Piped into the body guard, which nobody
 * reads once the request is answered, the body would stay paused: the connection would never see
 * its client leave, and a shutdown would wait on it to the end of its drain timeout.
 */
function dropRestOfBody(request: IncomingMessage): void {
  request.unpipe();
  request.resume();
}

export interface RequestBodiesOptions {
  maxBodyBytes: number;
}

/** True when the request has a body to read (a declared length above 0, or a chunked one). */
function hasBody(headers: IncomingHttpHeaders): boolean {
  return headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
}

/** True when what is left of an unread body may be read to its end: declared, and within the limit. */
function drainable(headers: IncomingHttpHeaders, limit: number): boolean {
  const declared = headers['content-length'];
  return headers['transfer-encoding'] === undefined && declared !== undefined && Number(declared) <= limit;
}

export default fp<RequestBodiesOptions>(
  async (app, { maxBodyBytes }) => {
    app.removeAllContentTypeParsers();

    // After authentication (its preParsing hook runs first): an unauthenticated body is never read.
    app.addHook('preParsing', async (request, _reply, payload) => {
      if (declaresTooLarge(request.headers, maxBodyBytes)) throw new PayloadTooLargeError(maxBodyBytes);
      if (!hasBody(request.headers)) return payload;
      const contentType = request.headers['content-type'] ?? '';
      const boundary = /^multipart\/form-data/i.test(contentType) ? boundaryOf(contentType) : null;
      const guard = new BodyGuard(
        maxBodyBytes,
        boundary === null ? null : new MultipartFramingScanner(boundary, MULTIPART_FRAMING_LIMITS),
      );
      // pipe(), not pipeline(): a refused body must not destroy the socket the 413 goes out on.
      payload.on('error', (error) => guard.destroy(error));
      guard.on('error', () => payload.unpipe(guard));
      return payload.pipe(guard);
    });

    app.addHook('onSend', async (request, reply) => {
      if (request.raw.complete) return;
      // Node >= 22 may itself close a connection whose request it has not read to the end (it
      // answers `Connection: close`); that close must linger too, or a client still writing the
      // rest of a small body gets EPIPE instead of this answer (seen on Node 24).
      lingerOnClose(request.raw);
      if (drainable(request.headers, maxBodyBytes)) {
        // Bounded: read the rest (and drop it) once answered, keeping the connection if Node does.
        reply.raw.once('finish', () => dropRestOfBody(request.raw));
        return;
      }
      reply.header('connection', 'close');
    });
  },
  { name: 'request-bodies', dependencies: ['auth'] },
);
