/**
 * Large images cannot starve small ones, and requests that timed out or whose client left start no
 * decoding (issue 16, item 5), over real HTTP. The test holds the only large-decode slot itself
 * (DECODE_LARGE_CONCURRENCY=1), as a long decode would, so what waits and what is refused is exact:
 *   - large images wait for the slot, beyond DECODE_MAX_QUEUE they get 503 OVERLOADED with
 *     Retry-After, and meanwhile small images are served with their own answers;
 *   - large images whose deadline passes (504) or whose client leaves while they wait are dropped
 *     from the queue and never decoded (fer_predict_stage_total{stage="decode"});
 *   - once the slot is free the waiting ones are decoded and served.
 */
import sharp from 'sharp';
import { metricValue } from '../../tools/prometheus-text';
import type { DecodePermit } from '../../src/predict/decode-gate';
import { answerKey, distinctImages, type AnswerKey } from '../../tools/answer-key';
import { READY_TIMEOUT_MS, startService, waitUntil, type Sent, type TestService } from '../helpers/service';

const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;
const TEST_TIMEOUT_MS = 60_000;
/** Images over this many pixels are "large" here (1000 x 1000). */
const LARGE_PIXELS = 1_000_000;
const MAX_QUEUE = 2;
/** The deadline of the service that tests timeouts; its queue is long. */
const SHORT_DEADLINE_MS = 1_500;
const WAIT_MS = 20_000;

let large: Buffer;
let small: Buffer[];

beforeAll(async () => {
  // 1200 x 1200 of one colour: a few kilobytes of PNG, 1.44 M pixels to decode.
  large = await sharp({ create: { width: 1200, height: 1200, channels: 3, background: '#808080' } })
    .png()
    .toBuffer();
  small = await distinctImages(3, 14);
});

/** Takes the only large-decode slot, as a long decode would, until `release`. */
async function holdSlot(service: TestService): Promise<{ release: () => void }> {
  const holder = new AbortController();
  const permit: DecodePermit = await service.app.decodeGate.acquire(LARGE_PIXELS + 1, holder.signal);
  expect(service.app.decodeGate.inProgress).toBe(1);
  return { release: () => permit.release() };
}

async function decodes(service: TestService): Promise<number> {
  const text = (await service.request('GET', '/metrics')).text;
  return metricValue(text, 'fer_predict_stage_total', { stage: 'decode' });
}

const predictLarge = (service: TestService, signal?: AbortSignal): Promise<Sent> =>
  service.request('POST', '/predict?crop=none', {
    headers: { 'content-type': 'image/png' },
    body: large,
    signal,
  });

describe('a full decode queue', () => {
  let service: TestService;
  let key: AnswerKey;

  beforeAll(async () => {
    service = await startService({
      env: {
        DECODE_LARGE_PIXELS: String(LARGE_PIXELS),
        DECODE_LARGE_CONCURRENCY: '1',
        DECODE_MAX_QUEUE: String(MAX_QUEUE),
      },
    });
    key = await answerKey((image) => service.predict(image, '?crop=none', 'image/png'), small);
  }, SETUP_TIMEOUT_MS);
  afterAll(() => service?.close());

  test(
    'large images wait or get 503 OVERLOADED; small ones are served meanwhile',
    async () => {
      const slot = await holdSlot(service);
      const before = await decodes(service);
      let waiting: Promise<Sent>[] = [];
      try {
        waiting = Array.from({ length: MAX_QUEUE }, () => predictLarge(service));
        await waitUntil(() => service.app.decodeGate.queueDepth === MAX_QUEUE, WAIT_MS, 'the queue to fill');
        const refused = await predictLarge(service);
        expect(refused.status).toBe(503);
        expect(refused.body.error.code).toBe('OVERLOADED');
        expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        for (let i = 0; i < small.length; i++) {
          const served = await service.predict(small[i], '?crop=none', 'image/png');
          expect(served.status).toBe(200);
          expect(key.isAnswerTo(i, served.body.faces[0].probabilities)).toBe(true);
        }
        // Small images were decoded; the large ones were not, yet.
        expect((await decodes(service)) - before).toBe(small.length);
        expect(service.app.decodeGate.queueDepth).toBe(MAX_QUEUE);
      } finally {
        slot.release();
      }
      expect((await Promise.all(waiting)).map((r) => r.status)).toEqual(Array(MAX_QUEUE).fill(200));
      expect((await decodes(service)) - before).toBe(small.length + MAX_QUEUE);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('requests that time out or lose their client while waiting', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await startService({
      env: {
        DECODE_LARGE_PIXELS: String(LARGE_PIXELS),
        DECODE_LARGE_CONCURRENCY: '1',
        DECODE_MAX_QUEUE: '16',
        REQUEST_TIMEOUT_MS: String(SHORT_DEADLINE_MS),
      },
    });
  }, SETUP_TIMEOUT_MS);
  afterAll(() => service?.close());

  test(
    'are dropped from the queue and never decoded',
    async () => {
      const slot = await holdSlot(service);
      const before = await decodes(service);
      try {
        // Four whose clients give up while they wait...
        const leaving = new AbortController();
        const abandoned = Array.from({ length: 4 }, () =>
          predictLarge(service, leaving.signal).catch(() => null),
        );
        await waitUntil(() => service.app.decodeGate.queueDepth === 4, WAIT_MS, 'four waiting');
        leaving.abort();
        expect(await Promise.all(abandoned)).toEqual([null, null, null, null]);
        await waitUntil(
          () => service.app.decodeGate.queueDepth === 0,
          WAIT_MS,
          'the abandoned ones to leave',
        );
        // ...and four that time out while they wait.
        const answers = await Promise.all(Array.from({ length: 4 }, () => predictLarge(service)));
        expect(answers.map((a) => [a.status, a.body.error?.code])).toEqual(Array(4).fill([504, 'TIMEOUT']));
        expect(service.app.decodeGate.queueDepth).toBe(0);
      } finally {
        slot.release();
      }
      expect((await decodes(service)) - before).toBe(0);
      // The slot serves the next large image at once.
      expect((await predictLarge(service)).status).toBe(200);
    },
    TEST_TIMEOUT_MS,
  );
});
