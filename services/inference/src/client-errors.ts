/**
 * Answers for requests that never reach a route: a request line or headers Node's HTTP parser
 * refuses (headers or URL too large, malformed syntax, too slow to arrive) and URLs the router
 * refuses (bad percent-encoding, a path parameter over the router's length limit). Fastify's own
 * answers to these have another body (`{ error, message, statusCode }`), statuses the API does not
 * document (408, 414, 431) and, for parser errors, no `Connection: close`, so a keep-alive client
 * reused a socket the server was destroying (ECONNRESET instead of an answer). Here they get the
 * API's error body with a documented status (400 INVALID_REQUEST) and an x-request-id.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, toHttpError } from './errors';

/** What each HTTP parser error tells the client; anything else is "malformed". */
const PARSER_MESSAGES: Readonly<Record<string, string>> = {
  HPE_HEADER_OVERFLOW: 'The request line and headers are larger than the server accepts',
  ERR_HTTP_REQUEST_TIMEOUT: 'The request did not arrive completely within the server’s time limit',
  ERR_HTTP_HEADERS_TIMEOUT: 'The request headers did not arrive within the server’s time limit',
};

/**
 * The raw HTTP answer to a request Node's parser refused, as bytes to write on the socket.
 *
 * @example parserErrorResponse('HPE_HEADER_OVERFLOW', 'id-1') // 'HTTP/1.1 400 Bad Request\r\n...'
 */
export function parserErrorResponse(errorCode: string | undefined, requestId: string): string {
  const message = PARSER_MESSAGES[errorCode ?? ''] ?? 'The HTTP request is malformed';
  const body = JSON.stringify(errorBody('INVALID_REQUEST', message));
  return [
    'HTTP/1.1 400 Bad Request',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `x-request-id: ${requestId}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * Fastify's `clientErrorHandler`: writes the API's 400 answer (when the socket can still take it)
 * and closes the connection, whose parser state is unusable.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) socket.end(parserErrorResponse(error.code, randomUUID()));
  else socket.destroy();
}

/**
 * Fastify's `frameworkErrors`: router-level refusals (FST_ERR_BAD_URL, FST_ERR_MAX_PARAM_LENGTH)
 * answered like every other error. Route hooks do not run for these requests, so the request id
 * header is set here.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const http = toHttpError(error, request.id);
  reply
    .code(http.statusCode)
    .header('x-request-id', request.id)
    .headers(http.headers)
    .send(errorBody(http.code, http.message));
}
