/**
 * The service's errors: plain errors with a stable `code` (the `{ error: { code } }` of the API,
 * DESIGN §4) and nothing of HTTP. Core modules (batching, faces, models, runtimes) and the request
 * pipeline throw these or @fer/shared's domain errors; which HTTP status and headers each code
 * gets is decided in one place at the edge (`http-errors.ts`, used by the error-handler plugin).
 */

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

export interface ServiceErrorOptions {
  /** When the client may usefully try again, in whole seconds (load shedding, warm-up, rate limits). */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/**
 * An error the service raises on purpose: its code is part of the API contract.
 *
 * @example throw new ServiceError('MODEL_NOT_FOUND', 'Model "x" failed to load');
 */
export class ServiceError extends Error {
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: ServiceErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export class InvalidRequestError extends ServiceError {
  constructor(message: string) {
    super('INVALID_REQUEST', message);
  }
}

export class UnauthorizedError extends ServiceError {
  constructor() {
    super('UNAUTHORIZED', 'A valid API key is required in the x-api-key header');
  }
}

/** The body, or one part of a multipart body's framing (`what`), is over its limit. */
export class PayloadTooLargeError extends ServiceError {
  constructor(limitBytes: number, what = 'The request body') {
    super(
      'PAYLOAD_TOO_LARGE',
      `${what[0].toUpperCase()}${what.slice(1)} is larger than the limit of ${limitBytes} bytes`,
    );
  }
}

/** The batching queue of a model version is full: shed load now rather than time out later. */
export class OverloadedError extends ServiceError {
  constructor(retryAfterSeconds: number) {
    super('OVERLOADED', 'The service is overloaded; retry later', { retryAfterSeconds });
  }
}

export class NotReadyError extends ServiceError {
  constructor(message: string, retryAfterSeconds = 1) {
    super('NOT_READY', message, { retryAfterSeconds });
  }
}

/**
 * The version a request resolved to was unloaded (removed, replaced or found broken) before its
 * faces reached the version's queue. The route resolves the request again; if it cannot, the
 * client gets NOT_READY.
 */
export class VersionUnloadedError extends NotReadyError {
  constructor(name: string, version: number) {
    super(`Model "${name}" version ${version} was unloaded`);
  }
}

/** A version exists in the registry but cannot be served (it failed to load or was found broken). */
export class ModelUnavailableError extends ServiceError {
  constructor(message: string) {
    super('MODEL_NOT_FOUND', message);
  }
}

export class RequestTimeoutError extends ServiceError {
  constructor(deadlineMs?: number) {
    super(
      'TIMEOUT',
      deadlineMs === undefined
        ? 'The request did not complete within its deadline'
        : `The request did not complete within its deadline of ${deadlineMs} ms`,
    );
  }
}

/** The client closed the connection; nobody reads the answer, so the work is dropped. */
export class ClientGoneError extends ServiceError {
  constructor() {
    super('INVALID_REQUEST', 'The client closed the connection');
  }
}

/** The runtime failed on a batch: only the requests in that batch get this. */
export class InferenceFailedError extends ServiceError {
  constructor(cause: unknown) {
    super('INFERENCE_FAILED', 'The model failed to process this request', { cause });
  }
}

/** A request for a resource the API does not have (other than a model or a route). */
export class NotFoundError extends ServiceError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

/** The client spent its request budget; `retryAfterSeconds` is when the window reopens. */
export class RateLimitedError extends ServiceError {
  constructor(message: string, retryAfterSeconds: number) {
    super('RATE_LIMITED', message, { retryAfterSeconds });
  }
}
