/**
 * The page's one way to the service: JSON, file and prediction requests with the API key (when
 * the service asks for one), failures as ApiError carrying the API's own code and message, and
 * polite retries when the service says it is busy (503, 429): wait what Retry-After asks, a few
 * times at most, and say so on the page meanwhile.
 */

/** @typedef {import('./types.js').ApiErrorBody} ApiErrorBody */

const KEY_STORAGE = 'fer.apiKey';

/** Retry settings for busy answers. */
export const RETRY = Object.freeze({
  /** Requests in all, the first one included. */
  maxAttempts: 4,
  /** Without Retry-After: 1 s, 2 s, 4 s... */
  fallbackDelayMs: 1000,
  minDelayMs: 250,
  maxDelayMs: 30_000,
  /** Up to this much is added at random so that many clients do not come back at the same instant. */
  jitterMs: 250,
});

const BUSY_STATUSES = new Set([429, 503]);

/** A failed API call: the HTTP status (0 when the service could not be reached) and the API's code. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {number | null} [retryAfterMs]
   */
  constructor(status, code, message, retryAfterMs = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }

  /** True for answers that mean "later", not "never". */
  get busy() {
    return BUSY_STATUSES.has(this.status);
  }
}

/**
 * How long to wait before retry number `attempt` (1 = the first retry), from a Retry-After header
 * (seconds or an HTTP date) or, without one, doubling from RETRY.fallbackDelayMs; clamped. No jitter.
 *
 * @param {string | null} header
 * @param {number} attempt
 * @param {number} [now] Date.now() for HTTP dates
 * @returns {number}
 * @example retryDelayMs('2', 1) // 2000
 * @example retryDelayMs(null, 3) // 4000
 */
export function retryDelayMs(header, attempt, now = Date.now()) {
  let delay = RETRY.fallbackDelayMs * 2 ** (attempt - 1);
  if (header !== null && header.trim() !== '') {
    const seconds = Number(header);
    if (Number.isFinite(seconds)) delay = seconds * 1000;
    else {
      const date = Date.parse(header);
      if (!Number.isNaN(date)) delay = date - now;
    }
  }
  return Math.min(RETRY.maxDelayMs, Math.max(RETRY.minDelayMs, delay));
}

/**
 * Resolves after `ms`, or rejects with the signal's reason when it aborts first.
 *
 * @param {number} ms
 * @param {AbortSignal} [signal]
 * @returns {Promise<void>}
 */
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The ApiError for a failed response: the API's `{ error: { code, message } }` when it sent one.
 *
 * @param {Response} response
 * @returns {Promise<ApiError>}
 */
async function errorOf(response) {
  const retryAfter = response.headers.get('retry-after');
  const retryAfterMs = retryAfter === null ? null : retryDelayMs(retryAfter, 1);
  try {
    const body = /** @type {{ error?: ApiErrorBody }} */ (await response.json());
    if (body.error && typeof body.error.code === 'string' && typeof body.error.message === 'string') {
      return new ApiError(response.status, body.error.code, body.error.message, retryAfterMs);
    }
  } catch {
    // Not the API's JSON (a proxy's page, say): described by its status below.
  }
  const text = response.statusText ? ` ${response.statusText}` : '';
  return new ApiError(
    response.status,
    `HTTP_${response.status}`,
    `The service answered ${response.status}${text}`,
    retryAfterMs,
  );
}

/**
 * @typedef {{ attempt: number, maxAttempts: number, delayMs: number, error: ApiError }} RetryNotice
 * @typedef {{
 *   signal?: AbortSignal,
 *   retry?: boolean,
 *   onRetry?: (notice: RetryNotice) => void,
 * }} CallOptions
 */

export class Api {
  /**
   * @param {{
   *   onRetry?: (notice: RetryNotice) => void,
   *   askForKey?: () => Promise<string | null>,
   * }} [hooks] onRetry: told before each wait; askForKey: asks the person for an API key after a 401.
   */
  constructor(hooks = {}) {
    this.hooks = hooks;
  }

  /** @returns {string | null} */
  get key() {
    try {
      return sessionStorage.getItem(KEY_STORAGE);
    } catch {
      return null;
    }
  }

  /** @param {string | null} key */
  set key(key) {
    try {
      if (key) sessionStorage.setItem(KEY_STORAGE, key);
      else sessionStorage.removeItem(KEY_STORAGE);
    } catch {
      // Storage may be disabled; the key then lasts as long as this page.
    }
  }

  /**
   * Sends a request and returns the successful response, retrying busy answers.
   *
   * @param {string} path
   * @param {RequestInit} [init]
   * @param {CallOptions} [options]
   * @returns {Promise<Response>}
   * @throws {ApiError} for an error answer or an unreachable service; the signal's reason on abort.
   */
  async send(path, init = {}, options = {}) {
    const maxAttempts = options.retry === false ? 1 : RETRY.maxAttempts;
    let askedForKey = false;
    for (let attempt = 1; ; attempt++) {
      const headers = new Headers(init.headers);
      const key = this.key;
      if (key) headers.set('x-api-key', key);
      let response;
      try {
        response = await fetch(path, { ...init, headers, signal: options.signal });
      } catch {
        if (options.signal?.aborted) throw options.signal.reason;
        throw new ApiError(0, 'NETWORK', 'The service cannot be reached. Is it running?', null);
      }
      if (response.ok || response.status === 304) return response;
      const error = await errorOf(response);
      if (response.status === 401 && !askedForKey && this.hooks.askForKey) {
        askedForKey = true;
        const entered = await this.hooks.askForKey();
        if (entered) {
          this.key = entered;
          attempt--;
          continue;
        }
      }
      if (!error.busy || attempt >= maxAttempts) throw error;
      const delayMs =
        retryDelayMs(response.headers.get('retry-after'), attempt) + Math.random() * RETRY.jitterMs;
      const notice = { attempt: attempt + 1, maxAttempts, delayMs, error };
      (options.onRetry ?? this.hooks.onRetry)?.(notice);
      await sleep(delayMs, options.signal);
    }
  }

  /**
   * @template T
   * @param {string} path
   * @param {CallOptions} [options]
   * @returns {Promise<T>}
   */
  async json(path, options = {}) {
    const response = await this.send(path, { headers: { accept: 'application/json' } }, options);
    return /** @type {T} */ (await response.json());
  }

  /**
   * @param {string} path
   * @param {CallOptions} [options]
   * @returns {Promise<Blob>}
   */
  async blob(path, options = {}) {
    return (await this.send(path, {}, options)).blob();
  }

  /**
   * @param {string} path
   * @param {CallOptions} [options]
   * @returns {Promise<string>}
   */
  async text(path, options = {}) {
    return (await this.send(path, {}, options)).text();
  }

  /**
   * POST /predict with a multipart form (field "image") or a raw image blob.
   *
   * @param {FormData | Blob} body
   * @param {URLSearchParams} query
   * @param {CallOptions} [options]
   * @returns {Promise<import('./types.js').PredictResponse>}
   */
  async predict(body, query, options = {}) {
    const search = query.toString();
    /** @type {RequestInit} */
    const init = { method: 'POST', body };
    if (body instanceof Blob) init.headers = { 'content-type': body.type || 'image/jpeg' };
    const response = await this.send(`/predict${search ? `?${search}` : ''}`, init, options);
    return response.json();
  }
}
