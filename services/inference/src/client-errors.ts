/**
 * Answers for requests that never reach a route: a request line or headers Node's HTTP parser
 * refuses (headers or URL too large, malformed syntax), requests too slow to arrive (headers
 * within HEADERS_TIMEOUT_MS, the whole request within UPLOAD_TIMEOUT_MS), URLs the router refuses
 * (bad percent-encoding, a path parameter over the router's length limit) and HTTP/1.1 requests
 * without a Host header. Fastify's and Node's own answers to these have another body (`{ error,
 * message, statusCode }`) or none, statuses the API does not document (414, 431) and, for parser
 * errors, no `Connection: close`, so a keep-alive client reused a socket the server was destroying
 * (ECONNRESET instead of an answer). Here they get the API's error body with a documented status
 * (400 INVALID_REQUEST, or 408 REQUEST_TIMEOUT for a slow client) and an x-request-id.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidRequestError, type ErrorCode } from './errors';
import { errorBody, toHttpError } from './http-errors';

interface ParserAnswer {
  status: string;
  code: ErrorCode;
  message: string;
}

/** What each HTTP parser error tells the client; anything else is "malformed". */
const PARSER_ANSWERS: Readonly<Record<string, ParserAnswer>> = {
  HPE_HEADER_OVERFLOW: {
    status: '400 Bad Request',
    code: 'INVALID_REQUEST',
    message: 'The request line and headers are larger than the server accepts',
  },
  // Node reports both its headers and its request timeout under this code.
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: '408 Request Timeout',
    code: 'REQUEST_TIMEOUT',
    message: 'The request did not arrive completely within the server’s time limit',
  },
};
const MALFORMED: ParserAnswer = {
  status: '400 Bad Request',
  code: 'INVALID_REQUEST',
  message: 'The HTTP request is malformed',
};

/**
 * The raw HTTP answer to a request Node's parser refused or timed out, as bytes to write on the socket.
 *
 * @example parserErrorResponse('HPE_HEADER_OVERFLOW', 'id-1') // 'HTTP/1.1 400 Bad Request\r\n...'
 */
export function parserErrorResponse(errorCode: string | undefined, requestId: string): string {
  const { status, code, message } = PARSER_ANSWERS[errorCode ?? ''] ?? MALFORMED;
  const body = JSON.stringify(errorBody(code, message));
  return [
    `HTTP/1.1 ${status}`,
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
  // An answer already under way (a slow upload timed out mid-answer) cannot be followed by another.
  const answering = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage
    ?.headersSent;
  if (socket.writable && !answering) socket.end(parserErrorResponse(error.code, randomUUID()));
  else socket.destroy();
}

/**
 * An onRequest hook refusing HTTP/1.1 requests without a usable Host header (RFC 9112 §3.2), which
 * Node would answer itself with an empty 400 (the server is created with `requireHostHeader: false`).
 */
export async function requireHostHeader(request: FastifyRequest): Promise<void> {
  if (request.raw.httpVersion !== '1.1') return;
  const host = request.headers.host;
  if (host === undefined || host.trim() === '') {
    throw new InvalidRequestError('An HTTP/1.1 request needs a Host header');
  }
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
