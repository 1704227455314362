/**
 * The one mapping from anything thrown while serving a request to an HTTP status, headers and the
 * stable `{ error: { code, message } }` body (DESIGN §4). Core modules throw plain errors with a
 * code (`errors.ts`, @fer/shared's domain errors); only the edge (the error-handler plugin and
 * client-errors.ts) calls `toHttpError`, and nothing else decides statuses.
 */
import { FerError, type FerErrorCode } from '@fer/shared';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ClientGoneError, ServiceError, type ErrorCode } from './errors';
import { describeIssues } from './validation-messages';

/** The HTTP status each of the API's error codes is answered with. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  INVALID_REQUEST: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  MODEL_NOT_FOUND: 404,
  REQUEST_TIMEOUT: 408,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNDECODABLE_IMAGE: 422,
  IMAGE_TOO_LARGE: 422,
  RATE_LIMITED: 429,
  INFERENCE_FAILED: 500,
  INTERNAL_ERROR: 500,
  OVERLOADED: 503,
  NOT_READY: 503,
  TIMEOUT: 504,
};

/** 499 is nginx's "client closed request": it only ever reaches logs and metrics. */
const CLIENT_CLOSED_REQUEST = 499;

/** The API code of each @fer/shared domain error. */
const FER_ERROR_CODE: Readonly<Record<FerErrorCode, ErrorCode>> = {
  UNDECODABLE_IMAGE: 'UNDECODABLE_IMAGE',
  IMAGE_TOO_LARGE: 'IMAGE_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  MODEL_NOT_FOUND: 'MODEL_NOT_FOUND',
  // A pinned version that exists but does not load cannot be served: to the client it is absent.
  INVALID_MODEL_VERSION: 'MODEL_NOT_FOUND',
  // Labels only come from models; an unknown one is our bug, not the client's.
  UNKNOWN_CLASS: 'INTERNAL_ERROR',
};

/** Errors Fastify and its plugins raise, by their `code`, with the status and code we answer. */
const FRAMEWORK_ERRORS: Readonly<Record<string, { status: number; code: ErrorCode; message?: string }>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message:
      'Send the image as multipart/form-data (field "image") or as an image/jpeg, image/png or image/webp body',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'INVALID_REQUEST' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'INVALID_REQUEST' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'INVALID_REQUEST' },
  FST_ERR_VALIDATION: { status: 400, code: 'INVALID_REQUEST' },
  // Router refusals (see client-errors.ts): their own messages quote the whole URL back.
  FST_ERR_BAD_URL: {
    status: 400,
    code: 'INVALID_REQUEST',
    message: 'The URL is not validly percent-encoded',
  },
  FST_ERR_MAX_PARAM_LENGTH: {
    status: 400,
    code: 'INVALID_REQUEST',
    message: 'A path segment of the URL is longer than the server accepts',
  },
};

export interface HttpError {
  statusCode: number;
  code: ErrorCode;
  message: string;
  headers: Readonly<Record<string, string>>;
  /** True when the error is not one we raise on purpose: log it in full, answer generically. */
  unexpected: boolean;
}

/** The headers an error's answer carries: Retry-After when the error says when to come back. */
function headersOf(error: ServiceError): Readonly<Record<string, string>> {
  return error.retryAfterSeconds === undefined ? {} : { 'retry-after': String(error.retryAfterSeconds) };
}

/**
 * Maps anything thrown while serving a request to what the client is told. Unknown errors become
 * a generic 500 whose message carries the request id, never the original message (it may hold
 * file paths or internals).
 *
 * @example toHttpError(new ModelNotFoundError('x'), 'req-1') // { statusCode: 404, code: 'MODEL_NOT_FOUND', ... }
 */
export function toHttpError(error: unknown, requestId: string): HttpError {
  if (error instanceof ServiceError) {
    const statusCode = error instanceof ClientGoneError ? CLIENT_CLOSED_REQUEST : HTTP_STATUS[error.code];
    return {
      statusCode,
      code: error.code,
      message: error.message,
      headers: headersOf(error),
      unexpected: statusCode >= 500 && statusCode !== 503 && statusCode !== 504,
    };
  }
  if (error instanceof FerError) {
    const code = FER_ERROR_CODE[error.code];
    const statusCode = HTTP_STATUS[code];
    if (statusCode < 500) {
      return { statusCode, code, message: error.message, headers: {}, unexpected: false };
    }
  }
  // A route's zod schema refused a request part: the same 400 and wording as any refused query.
  if (hasZodFastifySchemaValidationErrors(error)) {
    const part = (error as { validationContext?: string }).validationContext ?? 'request';
    const issues = error.validation.map((entry) => ({
      code: entry.keyword,
      path: entry.instancePath.split('/').filter((segment) => segment !== ''),
      message: entry.message ?? 'is invalid',
      keys: (entry.params as { keys?: string[] }).keys,
    }));
    return {
      statusCode: HTTP_STATUS.INVALID_REQUEST,
      code: 'INVALID_REQUEST',
      message: describeIssues(part, issues),
      headers: {},
      unexpected: false,
    };
  }
  const known = error as { code?: unknown; statusCode?: unknown; message?: unknown };
  const framework = typeof known.code === 'string' ? FRAMEWORK_ERRORS[known.code] : undefined;
  if (framework) {
    return {
      statusCode: framework.status,
      code: framework.code,
      message: framework.message ?? String(known.message),
      headers: {},
      unexpected: false,
    };
  }
  // Other client errors from Fastify (bad headers, aborted bodies) keep their status.
  if (typeof known.statusCode === 'number' && known.statusCode >= 400 && known.statusCode < 500) {
    return {
      statusCode: known.statusCode,
      code: 'INVALID_REQUEST',
      message: typeof known.message === 'string' ? known.message : 'Invalid request',
      headers: {},
      unexpected: false,
    };
  }
  return {
    statusCode: 500,
    code: 'INTERNAL_ERROR',
    message: `Internal server error (request id ${requestId})`,
    headers: {},
    unexpected: true,
  };
}

/** The JSON body of every error response. */
export function errorBody(code: ErrorCode, message: string): { error: { code: ErrorCode; message: string } } {
  return { error: { code, message } };
}
