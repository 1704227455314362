/**
 * The service's errors and the one mapping from any thrown value to an HTTP status and a stable
 * `{ error: { code, message } }` body (DESIGN §4). Core modules (batching, model manager, faces)
 * throw these or @fer/shared's domain errors without knowing about HTTP; the error handler in
 * app.ts calls `toHttpError` and nothing else decides statuses.
 */
import { FerError, type FerErrorCode } from '@fer/shared';

export type ErrorCode =
  | 'INVALID_REQUEST'
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'MODEL_NOT_FOUND'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'UNDECODABLE_IMAGE'
  | 'IMAGE_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'INFERENCE_FAILED'
  | 'INTERNAL_ERROR'
  | 'OVERLOADED'
  | 'NOT_READY'
  | 'TIMEOUT'
  | 'REQUEST_TIMEOUT';

/** An error the service raises on purpose: the code and status are part of the API contract. */
export class ServiceError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly statusCode: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidRequestError extends ServiceError {
  constructor(message: string) {
    super('INVALID_REQUEST', 400, message);
  }
}

export class UnauthorizedError extends ServiceError {
  constructor() {
    super('UNAUTHORIZED', 401, 'A valid API key is required in the x-api-key header');
  }
}

/** The body, or one part of a multipart body's framing (`what`), is over its limit. */
export class PayloadTooLargeError extends ServiceError {
  constructor(limitBytes: number, what = 'The request body') {
    super(
      'PAYLOAD_TOO_LARGE',
      413,
      `${what[0].toUpperCase()}${what.slice(1)} is larger than the limit of ${limitBytes} bytes`,
    );
  }
}

/** The batching queue of a model version is full: shed load now rather than time out later. */
export class OverloadedError extends ServiceError {
  constructor(retryAfterSeconds: number) {
    super('OVERLOADED', 503, 'The service is overloaded; retry later', {
      'retry-after': String(retryAfterSeconds),
    });
  }
}

export class NotReadyError extends ServiceError {
  constructor(message: string, retryAfterSeconds = 1) {
    super('NOT_READY', 503, message, { 'retry-after': String(retryAfterSeconds) });
  }
}

/**
 * The version a request resolved to was unloaded (removed, replaced or found broken) before its
 * faces reached the version's queue. The route resolves the request again; if it cannot, the
 * client gets this 503 NOT_READY.
 */
export class VersionUnloadedError extends NotReadyError {
  constructor(name: string, version: number) {
    super(`Model "${name}" version ${version} was unloaded`);
  }
}

export class RequestTimeoutError extends ServiceError {
  constructor(deadlineMs?: number) {
    super(
      'TIMEOUT',
      504,
      deadlineMs === undefined
        ? 'The request did not complete within its deadline'
        : `The request did not complete within its deadline of ${deadlineMs} ms`,
    );
  }
}

/** The client closed the connection; nobody reads the answer, so the work is dropped. */
export class ClientGoneError extends ServiceError {
  constructor() {
    // 499 is nginx's "client closed request"; it only ever reaches logs and metrics.
    super('INVALID_REQUEST', 499, 'The client closed the connection');
  }
}

/** The runtime failed on a batch: only the requests in that batch get this. */
export class InferenceFailedError extends ServiceError {
  constructor(cause: unknown) {
    super('INFERENCE_FAILED', 500, 'The model failed to process this request', {}, { cause });
  }
}

const FER_ERROR_STATUS: Readonly<Record<FerErrorCode, { status: number; code: ErrorCode }>> = {
  UNDECODABLE_IMAGE: { status: 422, code: 'UNDECODABLE_IMAGE' },
  IMAGE_TOO_LARGE: { status: 422, code: 'IMAGE_TOO_LARGE' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  MODEL_NOT_FOUND: { status: 404, code: 'MODEL_NOT_FOUND' },
  // A pinned version that exists but does not load cannot be served: to the client it is absent.
  INVALID_MODEL_VERSION: { status: 404, code: 'MODEL_NOT_FOUND' },
  // Labels only come from models; an unknown one is our bug, not the client's.
  UNKNOWN_CLASS: { status: 500, code: 'INTERNAL_ERROR' },
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

/**
 * Maps anything thrown while serving a request to what the client is told. Unknown errors become
 * a generic 500 whose message carries the request id, never the original message (it may hold
 * file paths or internals).
 *
 * @example toHttpError(new ModelNotFoundError('x'), 'req-1') // { statusCode: 404, code: 'MODEL_NOT_FOUND', ... }
 */
export function toHttpError(error: unknown, requestId: string): HttpError {
  if (error instanceof ServiceError) {
    return {
      statusCode: error.statusCode,
      code: error.code,
      message: error.message,
      headers: error.headers,
      unexpected: error.statusCode >= 500 && error.statusCode !== 503 && error.statusCode !== 504,
    };
  }
  if (error instanceof FerError) {
    const mapped = FER_ERROR_STATUS[error.code];
    if (mapped.status < 500) {
      return {
        statusCode: mapped.status,
        code: mapped.code,
        message: error.message,
        headers: {},
        unexpected: false,
      };
    }
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
