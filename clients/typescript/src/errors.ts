/**
 * The error an app catches: the API's own `{ error: { code, message } }` with the HTTP status, the
 * request id to quote in a bug report, and the Retry-After the service sent.
 */
import type { ErrorBody, ErrorCode } from './types';

export class FerApiError extends Error {
  override name = 'FerApiError';

  constructor(
    /** The HTTP status (400, 401, 404, 413, 415, 422, 429, 500, 503, 504). */
    readonly status: number,
    /** The API's stable code, e.g. 'UNDECODABLE_IMAGE' or 'OVERLOADED'. */
    readonly code: ErrorCode,
    message: string,
    /** The service's x-request-id for this answer (its log lines carry it). */
    readonly requestId: string | null,
    /** Seconds the service asked to wait before trying again (503, 429), else null. */
    readonly retryAfterS: number | null,
  ) {
    super(message);
  }

  /**
   * From an error answer. A body that is not the API's error shape (a proxy's HTML page) becomes
   * code INTERNAL_ERROR with the status in the message.
   *
   * @example FerApiError.from(response, await response.json())
   */
  static from(response: Response, body: unknown): FerApiError {
    const error = (body as Partial<ErrorBody> | null)?.error;
    const retryAfter = response.headers.get('retry-after');
    const seconds = retryAfter !== null && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) : null;
    const requestId = response.headers.get('x-request-id');
    if (error && typeof error.code === 'string' && typeof error.message === 'string') {
      return new FerApiError(response.status, error.code, error.message, requestId, seconds);
    }
    return new FerApiError(
      response.status,
      'INTERNAL_ERROR',
      `HTTP ${response.status} ${response.statusText} without the API's error body`,
      requestId,
      seconds,
    );
  }
}
