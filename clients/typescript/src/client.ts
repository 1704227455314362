/**
 * The client: openapi-fetch over the paths generated from openapi.yaml, plus what apps need around
 * it: the API key on every request, an image from whatever the app holds, Retry-After honoured on
 * 503 and 429 with bounded retries, and the API's error code as a typed error.
 */
import createClient, { type Client } from 'openapi-fetch';
import { FerApiError } from './errors';
import type { paths } from './generated/openapi';
import { imageBytes, imageContentType, type ImageInput } from './image-body';
import { DEFAULT_RETRY, retryDelayMs, type RetryPolicy } from './retry';
import type { ModelList, PredictQuery, PredictResponse, VersionDetail } from './types';

export interface FerClientOptions {
  /** Where the service listens, e.g. 'http://localhost:8080'. */
  baseUrl: string;
  /** Sent as `x-api-key` when the service has API_KEYS set. */
  apiKey?: string;
  /** Retries on 503/429 (see retry.ts); `{ retries: 0 }` turns them off. */
  retry?: Partial<RetryPolicy>;
  /** A fetch of your own (tests, proxies); the global one by default. */
  fetch?: (request: Request) => Promise<Response>;
}

export interface CallOptions {
  signal?: AbortSignal;
}

/** A wait that ends early, with the signal's reason, when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class FerClient {
  /** The underlying openapi-fetch client, typed by the generated paths, for calls not wrapped here. */
  readonly api: Client<paths>;
  private readonly retry: RetryPolicy;

  /**
   * @example const fer = new FerClient({ baseUrl: 'http://localhost:8080', apiKey: process.env.FER_API_KEY });
   */
  constructor(options: FerClientOptions) {
    this.api = createClient<paths>({
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      headers: options.apiKey ? { 'x-api-key': options.apiKey } : {},
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
  }

  /**
   * Every face in `image` with its six expression probabilities.
   *
   * @example const { faces } = await fer.predict(await readFile('group.jpg'), { faces: 'largest' });
   * @throws FerApiError with the API's code (UNDECODABLE_IMAGE, MODEL_NOT_FOUND, OVERLOADED after the
   *         last retry...); the AbortSignal's reason when aborted; fetch's TypeError when the service
   *         cannot be reached.
   */
  async predict(image: ImageInput, options: PredictQuery & CallOptions = {}): Promise<PredictResponse> {
    const { signal, ...query } = options;
    const bytes = await imageBytes(image);
    return this.withRetries(signal, () =>
      this.api.POST('/predict', {
        params: { query },
        // The generated type of a binary body is string; the bytes go as they are.
        body: bytes as unknown as string,
        bodySerializer: (body: unknown) => body,
        headers: { 'content-type': imageContentType(bytes) },
        ...(signal ? { signal } : {}),
      }),
    );
  }

  /**
   * The registry as the service sees it: models, versions, status and summary metrics.
   *
   * @example const { default_model, models } = await fer.listModels();
   */
  async listModels(options: CallOptions = {}): Promise<ModelList> {
    const { signal } = options;
    return this.withRetries(signal, () => this.api.GET('/models', signal ? { signal } : {}));
  }

  /**
   * One version's status and full metadata.json.
   *
   * @example const v = await fer.modelVersion('resnet-small-x3', 1); v.metadata?.metrics?.accuracy
   */
  async modelVersion(name: string, version: number, options: CallOptions = {}): Promise<VersionDetail> {
    const { signal } = options;
    return this.withRetries(signal, () =>
      this.api.GET('/models/{name}/versions/{version}', {
        params: { path: { name, version } },
        ...(signal ? { signal } : {}),
      }),
    );
  }

  /** Sends `call` until it succeeds, its error is not worth retrying, or the retries are spent. */
  private async withRetries<T>(
    signal: AbortSignal | undefined,
    call: () => Promise<{ data?: T; error?: unknown; response: Response }>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const { data, error, response } = await call();
      if (response.ok && data !== undefined) return data;
      const delay = retryDelayMs(
        { status: response.status, retryAfter: response.headers.get('retry-after') },
        attempt,
        this.retry,
      );
      if (delay === null) throw FerApiError.from(response, error);
      await sleep(delay, signal);
    }
  }
}
