/**
 * Dynamic batching through real HTTP (DESIGN §5): concurrent requests share batches, a full queue
 * sheds load with 503 while accepted requests succeed, deadlines give 504 without compute, a client
 * that hangs up costs no compute, and a failing batch fails only its own requests.
 */
import { createThreadedRuntime } from '../../src/runtime-host/threaded-runtime';
import { faultInjecting } from '../helpers/fault-injection';
import { faceCrop } from '../helpers/images';
import { metricValue } from '../../tools/prometheus-text';
import { READY_TIMEOUT_MS, startService, waitUntil, type TestService } from '../helpers/service';

const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;
/** Long enough that every request of a burst joins the first batch on a busy 2-core machine. */
const LONG_BATCH_DELAY_MS = 600;
const SHORT_DEADLINE_MS = 250;
const CLOSE_TIMEOUT_MS = 30_000;
const HANG_UP_AFTER_MS = 100;
const METRIC_SETTLE_MS = 5_000;

let face: Buffer;
beforeAll(async () => {
  face = await faceCrop('jpeg');
});

async function metrics(service: TestService): Promise<string> {
  return (await service.request('GET', '/metrics')).text;
}

describe('grouping and failures (max batch 2)', () => {
  const faults = faultInjecting(createThreadedRuntime);
  let service: TestService;
  beforeAll(async () => {
    service = await startService({
      runtimeFactory: faults.factory,
      env: { BATCH_MAX_SIZE: '2', BATCH_MAX_DELAY_MS: String(LONG_BATCH_DELAY_MS) },
    });
  }, SETUP_TIMEOUT_MS);
  afterAll(() => service?.close(), CLOSE_TIMEOUT_MS);

  test('concurrent requests are grouped into batches', async () => {
    faults.batchSizes.length = 0;
    const responses = await Promise.all(Array.from({ length: 6 }, () => service.predict(face, '?crop=none')));
    expect(responses.map((r) => r.status)).toEqual(Array(6).fill(200));
    expect(faults.batchSizes).toEqual([2, 2, 2]);
    const text = await metrics(service);
    const count = metricValue(text, 'fer_batch_size_count');
    expect(metricValue(text, 'fer_batch_size_sum') / count).toBeGreaterThan(1);
  });

  test('a thrown runtime error fails only that batch, and the service keeps serving', async () => {
    faults.batchSizes.length = 0;
    faults.failNextBatches(1);
    const responses = await Promise.all(Array.from({ length: 4 }, () => service.predict(face, '?crop=none')));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 500, 500]);
    for (const failed of responses.filter((r) => r.status === 500)) {
      expect(failed.body.error.code).toBe('INFERENCE_FAILED');
      expect(failed.text).not.toContain('injected');
    }
    expect(faults.batchSizes).toEqual([2, 2]);
    expect((await service.predict(face, '?crop=none')).status).toBe(200);
  });
});

describe('queue limit (max queue 4)', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startService({
      env: { BATCH_MAX_SIZE: '64', BATCH_MAX_QUEUE: '4', BATCH_MAX_DELAY_MS: String(LONG_BATCH_DELAY_MS) },
    });
  }, SETUP_TIMEOUT_MS);
  afterAll(() => service?.close(), CLOSE_TIMEOUT_MS);

  test('a burst beyond the queue gets 503 OVERLOADED with Retry-After; accepted requests succeed', async () => {
    const responses = await Promise.all(
      Array.from({ length: 16 }, () => service.predict(face, '?crop=none')),
    );
    const ok = responses.filter((r) => r.status === 200);
    const shed = responses.filter((r) => r.status === 503);
    expect(ok.length + shed.length).toBe(16);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(ok.length).toBeLessThanOrEqual(4);
    expect(shed.length).toBeGreaterThanOrEqual(12);
    for (const response of shed) {
      expect(response.body.error.code).toBe('OVERLOADED');
      expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    expect(metricValue(await metrics(service), 'fer_batch_items_total', { outcome: 'rejected' })).toBe(
      shed.length,
    );
    expect((await service.predict(face, '?crop=none')).status).toBe(200);
  });
});

describe('deadlines and hang-ups (batches wait long, deadline short)', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startService({
      env: {
        BATCH_MAX_SIZE: '64',
        BATCH_MAX_DELAY_MS: String(LONG_BATCH_DELAY_MS * 4),
        REQUEST_TIMEOUT_MS: String(SHORT_DEADLINE_MS),
      },
    });
  }, SETUP_TIMEOUT_MS);
  afterAll(() => service?.close(), CLOSE_TIMEOUT_MS);

  test('a request past its deadline gets 504 TIMEOUT and is dropped before compute', async () => {
    const response = await service.predict(face, '?crop=none');
    expect(response.status).toBe(504);
    expect(response.body.error.code).toBe('TIMEOUT');
    const text = await metrics(service);
    expect(metricValue(text, 'fer_batch_items_total', { outcome: 'cancelled' })).toBe(1);
    expect(metricValue(text, 'fer_batch_size_count')).toBe(0);
  });

  test('a client that hangs up is dropped before compute', async () => {
    const before = metricValue(await metrics(service), 'fer_batch_items_total', { outcome: 'cancelled' });
    const controller = new AbortController();
    const hangUp = fetch(`${service.url}/predict?crop=none`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: face,
      signal: controller.signal,
    }).catch((error: unknown) => error);
    setTimeout(() => controller.abort(), HANG_UP_AFTER_MS);
    expect(await hangUp).toHaveProperty('name', 'AbortError');
    await waitUntil(
      async () =>
        metricValue(await metrics(service), 'fer_batch_items_total', { outcome: 'cancelled' }) > before,
      METRIC_SETTLE_MS,
      'the request to be cancelled',
    );
    expect(metricValue(await metrics(service), 'fer_batch_size_count')).toBe(0);
  });
});
