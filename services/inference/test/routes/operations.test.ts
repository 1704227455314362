/**
 * The operational surface over real HTTP: health and readiness, Prometheus metrics, the rendered
 * OpenAPI document, API keys, rate limiting, CORS and security headers.
 */
import { SHIPPED_DEFAULT_MODEL } from '../../src/config';
import { faceCrop } from '../helpers/images';
import { metricValue } from '../../tools/prometheus-text';
import { READY_TIMEOUT_MS, startService, type TestService } from '../helpers/service';
import { TEST_MODEL } from '../helpers/test-models';

const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;
const API_KEY = 'test-key-0123456789';
const ORIGIN = 'https://app.example';
const RATE_LIMIT = 5;

describe('health, readiness, metrics and docs', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startService();
  }, SETUP_TIMEOUT_MS);
  afterAll(() => service?.close());

  test('GET /healthz and GET /readyz', async () => {
    expect((await service.request('GET', '/healthz')).body).toEqual({ status: 'ok' });
    const ready = await service.request('GET', '/readyz');
    expect(ready.status).toBe(200);
    // The test registry lacks the shipped default model: requests without a model fail over to
    // the one it has, and readiness says so.
    expect(ready.body).toEqual({
      status: 'ready',
      models_ready: 1,
      detector: 'ready',
      default_model: { name: TEST_MODEL, version: 1 },
      failover: { configured_model: SHIPPED_DEFAULT_MODEL, reason: 'is not in the registry' },
    });
  });

  test('GET /metrics counts requests by route, status and model, and the batching pipeline', async () => {
    const face = await faceCrop('jpeg');
    expect((await service.predict(face, '?crop=none')).status).toBe(200);
    expect((await service.predict(face, '?faces=bad')).status).toBe(400);
    const response = await service.request('GET', '/metrics');
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    const text = response.text;
    const model = `${TEST_MODEL}@1`;
    expect(
      metricValue(text, 'fer_http_requests_total', { route: '/predict', status: '200', model }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      metricValue(text, 'fer_http_requests_total', { route: '/predict', status: '400' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      metricValue(text, 'fer_http_request_duration_seconds_count', { route: '/predict' }),
    ).toBeGreaterThanOrEqual(2);
    expect(metricValue(text, 'fer_batch_size_count', { model: TEST_MODEL })).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'fer_batch_queue_wait_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'fer_inference_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'fer_faces_per_image_count')).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'fer_loaded_model_versions', { model: TEST_MODEL })).toBe(1);
    expect(metricValue(text, 'fer_model_loads_total', { outcome: 'ok' })).toBe(1);
    expect(text).toContain('fer_batch_queue_depth');
    expect(text).toContain('process_resident_memory_bytes');
  });

  test('GET /docs renders the OpenAPI document, also served as JSON', async () => {
    const page = await service.request('GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/swagger/i);
    const json = await service.request('GET', '/docs/json');
    expect(json.body.openapi).toBe('3.1.0');
    // A relative server: Swagger UI's "Try it out" calls the host and port the docs came from.
    expect(json.body.servers.map((s: { url: string }) => s.url)).toEqual(['/']);
    expect(Object.keys(json.body.paths)).toEqual(
      expect.arrayContaining([
        '/predict',
        '/models',
        '/models/{name}/versions/{version}',
        '/healthz',
        '/readyz',
        '/metrics',
      ]),
    );
  });

  test('responses carry security headers and a request id', async () => {
    const response = await service.request('GET', '/healthz');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toBeTruthy();
    // Plain HTTP: the browser must not rewrite the service's own URLs to https (that breaks /docs).
    const docs = await service.request('GET', '/docs');
    for (const csp of [
      response.headers['content-security-policy'],
      docs.headers['content-security-policy'],
    ]) {
      expect(csp).not.toContain('upgrade-insecure-requests');
    }
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('/readyz turns 503 while draining', async () => {
    service.app.lifecycle.startDraining();
    const ready = await service.request('GET', '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.error.code).toBe('NOT_READY');
    const predict = await service.predict(await faceCrop('jpeg'), '?crop=none');
    expect(predict.status).toBe(503);
    expect((await service.request('GET', '/healthz')).status).toBe(200);
  });
});

describe('API keys, rate limits and CORS', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startService({
      env: { API_KEYS: `other-key,${API_KEY}`, RATE_LIMIT_MAX: String(RATE_LIMIT), CORS_ORIGINS: ORIGIN },
    });
  }, SETUP_TIMEOUT_MS);
  afterAll(() => service?.close());

  test('protected routes need a configured key; probes and docs do not', async () => {
    const missing = await service.request('GET', '/models');
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('UNAUTHORIZED');
    expect((await service.request('GET', '/models', { headers: { 'x-api-key': 'wrong' } })).status).toBe(401);
    expect((await service.request('GET', '/models', { headers: { 'x-api-key': API_KEY } })).status).toBe(200);
    const face = await faceCrop('jpeg');
    expect((await service.predict(face, '?crop=none')).status).toBe(401);
    const keyed = await service.request('POST', '/predict?crop=none', {
      headers: { 'content-type': 'image/jpeg', 'x-api-key': API_KEY },
      body: face,
    });
    expect(keyed.status).toBe(200);
    expect((await service.request('GET', '/healthz')).status).toBe(200);
    expect((await service.request('GET', '/readyz')).status).toBe(200);
    expect((await service.request('GET', '/docs')).status).toBe(200);
    expect((await service.request('GET', '/metrics')).status).toBe(401);
  });

  test('CORS answers the configured origin only', async () => {
    const allowed = await service.request('GET', '/healthz', { headers: { origin: ORIGIN } });
    expect(allowed.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(allowed.headers['access-control-expose-headers']).toContain('x-request-id');
    const other = await service.request('GET', '/healthz', { headers: { origin: 'https://evil.example' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('each key has its own rate limit; beyond it 429 RATE_LIMITED with Retry-After', async () => {
    const withKey = { headers: { 'x-api-key': 'other-key' } };
    const statuses: number[] = [];
    for (let i = 0; i < RATE_LIMIT + 2; i++)
      statuses.push((await service.request('GET', '/models', withKey)).status);
    expect(statuses.slice(0, RATE_LIMIT)).toEqual(Array(RATE_LIMIT).fill(200));
    const limited = await service.request('GET', '/models', withKey);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Probes are never limited.
    expect((await service.request('GET', '/healthz')).status).toBe(200);
  });
});
