/**
 * Every error the service can answer, provoked on purpose over real HTTP: each has the contract's
 * body (checked against openapi.yaml), a stable code, and no stack trace, file-system path or
 * internal message in it. Meanwhile everything the service logs (at trace level, with the
 * production logger options) is captured: the API keys, valid or not, never appear in it, while
 * the failures themselves are logged under their request ids.
 */
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createThreadedRuntime } from '../../src/runtime-host/threaded-runtime';
import { distinctImages } from '../../tools/answer-key';
import { faultInjecting } from '../helpers/fault-injection';
import { animatedGif, pngHeaderClaiming } from '../helpers/images';
import { captureLogs } from '../helpers/log-capture';
import { READY_TIMEOUT_MS, startService, waitUntil, type Sent, type TestService } from '../helpers/service';
import { TEST_MODEL } from '../helpers/test-models';

const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;
const TEST_TIMEOUT_MS = 60_000;
const API_KEY = 'sk-live-4f9c2e7a1b8d3f6e0a5c';
const LIMITED_KEY = 'sk-live-limited-77e1c0d2b9a4';
/** A key-shaped secret a client sent by mistake: it must not be logged either. */
const WRONG_KEY = 'sk-live-wrong-0c3b5a7d9e1f';
/** A real key sent in the URL (as other APIs accept) instead of the header: logged redacted. */
const KEY_IN_URL = API_KEY;
const OTHER_KEY_IN_URL = 'sk-live-inurl-93be41c07d2a';
const RATE_LIMIT = 40;
const BODY_LIMIT_BYTES = 64 * 1024;
/** What no error body may contain: stack frames, file-system paths, source locations, internals. */
const LEAK = /\n\s+at |\/tmp\/|\/work\/|\/home\/|node_modules|\.ts:\d+|\.js:\d+|injected|onnx|Error:/i;
const ERROR_BODY_KEYS = ['code', 'message'];

const logs = captureLogs('trace');
let service: TestService;
const injection = faultInjecting(createThreadedRuntime);
let image: Buffer;

beforeAll(async () => {
  service = await startService({
    runtimeFactory: injection.factory,
    logger: logs.logger,
    env: {
      API_KEYS: `${API_KEY},${LIMITED_KEY}`,
      RATE_LIMIT_MAX: String(RATE_LIMIT),
      MAX_BODY_BYTES: String(BODY_LIMIT_BYTES),
    },
  });
  [image] = await distinctImages(1, 8);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await service?.close();
});

const withKey = (key: string, headers: Record<string, string> = {}) => ({ ...headers, 'x-api-key': key });

function predict(body: Buffer, query = '?crop=none', key = API_KEY, type = 'image/png'): Promise<Sent> {
  return service.request('POST', `/predict${query}`, {
    headers: withKey(key, { 'content-type': type }),
    body,
  });
}

function expectCleanError(response: Sent, status: number, code: string): void {
  expect({ status: response.status, code: response.body?.error?.code }).toEqual({ status, code });
  expect(Object.keys(response.body.error).sort()).toEqual(ERROR_BODY_KEYS);
  expect(response.text).not.toMatch(LEAK);
  expect(response.text).not.toContain(service.registry);
  expect(response.headers['x-request-id']).toBeTruthy();
}

test(
  'every client error has the contract body and nothing internal',
  async () => {
    const cases: [string, () => Promise<Sent>, number, string][] = [
      ['bad query', () => predict(image, '?crop=maybe'), 400, 'INVALID_REQUEST'],
      ['empty body', () => predict(Buffer.alloc(0)), 400, 'INVALID_REQUEST'],
      [
        'malformed multipart',
        () => predict(Buffer.from('--x\r\nbroken'), '', API_KEY, 'multipart/form-data; boundary=x'),
        400,
        'INVALID_REQUEST',
      ],
      ['no key', () => service.request('GET', '/models'), 401, 'UNAUTHORIZED'],
      [
        'wrong key',
        () => service.request('GET', '/models', { headers: withKey(WRONG_KEY) }),
        401,
        'UNAUTHORIZED',
      ],
      ['unknown model', () => predict(image, '?model=nosuch'), 404, 'MODEL_NOT_FOUND'],
      [
        'unknown version',
        () => service.request('GET', `/models/${TEST_MODEL}/versions/7`, { headers: withKey(API_KEY) }),
        404,
        'MODEL_NOT_FOUND',
      ],
      [
        'unknown route',
        () => service.request('GET', '/admin', { headers: withKey(API_KEY) }),
        404,
        'NOT_FOUND',
      ],
      ['body over the limit', () => predict(Buffer.alloc(BODY_LIMIT_BYTES + 1, 1)), 413, 'PAYLOAD_TOO_LARGE'],
      ['GIF', async () => predict(await animatedGif()), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [
        'text body',
        () => predict(Buffer.from('hi'), '', API_KEY, 'text/plain'),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      ['corrupt PNG', () => predict(image.subarray(0, 60)), 422, 'UNDECODABLE_IMAGE'],
      ['pixel bomb header', () => predict(pngHeaderClaiming(30_000, 30_000)), 422, 'IMAGE_TOO_LARGE'],
    ];
    for (const [name, send, status, code] of cases) {
      const response = await send();
      try {
        expectCleanError(response, status, code);
      } catch (error) {
        throw new Error(`${name}: ${String(error)}`);
      }
    }
  },
  TEST_TIMEOUT_MS,
);

test(
  'a failing batch (500 INFERENCE_FAILED) says nothing of why, and the log has it under the request id',
  async () => {
    injection.failNextBatches(1);
    const response = await predict(image);
    expectCleanError(response, 500, 'INFERENCE_FAILED');
    const logged = logs
      .withMessage('request failed')
      .find((line) => line.reqId === response.headers['x-request-id']);
    expect(JSON.stringify(logged)).toContain('injected runtime failure');
  },
  TEST_TIMEOUT_MS,
);

test(
  'a failed model version is listed with a registry-relative error only',
  async () => {
    const dir = path.join(service.registry, TEST_MODEL, '2');
    await cp(path.join(service.registry, TEST_MODEL, '1'), dir, { recursive: true });
    const metadataFile = path.join(dir, 'metadata.json');
    const metadata = JSON.parse(await readFile(metadataFile, 'utf8'));
    await writeFile(
      metadataFile,
      JSON.stringify({
        ...metadata,
        version: 2,
        artifacts: [...metadata.artifacts, { path: 'gone.bin', sha256: '0'.repeat(64), bytes: 1 }],
      }),
    );
    const models = async () => (await service.request('GET', '/models', { headers: withKey(API_KEY) })).body;
    await waitUntil(
      async () => (await models()).models[0].versions.length === 2,
      TEST_TIMEOUT_MS,
      'version 2 listed',
    );
    const failed = (await models()).models[0].versions.find((v: { version: number }) => v.version === 2);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/gone\.bin/);
    expect(failed.error).not.toMatch(LEAK);
    const pinned = await predict(image, '?crop=none&version=2');
    expectCleanError(pinned, 404, 'MODEL_NOT_FOUND');
  },
  TEST_TIMEOUT_MS,
);

test(
  'rate limiting answers 429 with Retry-After and the contract body',
  async () => {
    let response: Sent | undefined;
    for (let i = 0; i <= RATE_LIMIT; i++)
      response = await service.request('GET', '/models', { headers: withKey(LIMITED_KEY) });
    expectCleanError(response as Sent, 429, 'RATE_LIMITED');
    expect(Number(response?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  },
  TEST_TIMEOUT_MS,
);

test(
  'a key sent in the query string is refused and logged redacted',
  async () => {
    const inUrl = await service.request('GET', `/models?api_key=${KEY_IN_URL}`);
    expectCleanError(inUrl, 401, 'UNAUTHORIZED');
    const predictInUrl = await service.request('POST', `/predict?crop=none&x-api-key=${OTHER_KEY_IN_URL}`, {
      headers: withKey(API_KEY, { 'content-type': 'image/png' }),
      body: image,
    });
    expectCleanError(predictInUrl, 400, 'INVALID_REQUEST');
    const logged = logs
      .withMessage('incoming request')
      .map((line) => (line.req as { url: string }).url)
      .filter((url) => url.includes('api_key') || url.includes('x-api-key'));
    expect(logged).toEqual(['/models?api_key=[REDACTED]', '/predict?crop=none&x-api-key=[REDACTED]']);
  },
  TEST_TIMEOUT_MS,
);

test('no API key, valid or not, ever reaches the log', () => {
  const text = logs.lines().join('\n');
  // The capture really saw the traffic: one "incoming request" line per request at least.
  expect(logs.withMessage('incoming request').length).toBeGreaterThan(RATE_LIMIT);
  const secrets = [API_KEY, LIMITED_KEY, WRONG_KEY, OTHER_KEY_IN_URL];
  for (const secret of secrets) expect(text).not.toContain(secret);
  // Not even a fragment long enough to narrow a guess.
  for (const secret of secrets) expect(text).not.toContain(secret.slice(-12));
});

describe('503 and 504', () => {
  let slow: TestService;
  beforeAll(async () => {
    // Batches wait longer than a request's deadline, and the queue holds one face.
    slow = await startService({
      env: {
        BATCH_MAX_SIZE: '64',
        BATCH_MAX_DELAY_MS: '400',
        REQUEST_TIMEOUT_MS: '200',
        BATCH_MAX_QUEUE: '1',
      },
    });
  }, SETUP_TIMEOUT_MS);
  afterAll(() => slow?.close());

  test(
    'OVERLOADED, TIMEOUT and NOT_READY have the contract body and nothing internal',
    async () => {
      const send = () => slow.predict(image, '?crop=none', 'image/png');
      const first = send();
      await waitUntil(() => slow.app.batcher.depth >= 1, TEST_TIMEOUT_MS, 'the first request to queue');
      const overloaded = await send();
      expectCleanErrorOf(slow, overloaded, 503, 'OVERLOADED');
      expect(Number(overloaded.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expectCleanErrorOf(slow, await first, 504, 'TIMEOUT');
      slow.app.lifecycle.startDraining();
      expectCleanErrorOf(slow, await send(), 503, 'NOT_READY');
    },
    TEST_TIMEOUT_MS,
  );
});

function expectCleanErrorOf(on: TestService, response: Sent, status: number, code: string): void {
  expect({ status: response.status, code: response.body?.error?.code }).toEqual({ status, code });
  expect(response.text).not.toMatch(LEAK);
  expect(response.text).not.toContain(on.registry);
}
