/**
 * Limits are enforced before work is done, and rate limits are per key. "Work" is observed with
 * timing-independent counters, fer_predict_stage_total{stage}: an image that is probed (header
 * read), decoded, sent to the detector or to the model. An oversized body is refused without being
 * read (413 before the client finished sending), a pixel bomb after its header only, a
 * rate-limited or unauthenticated request before anything; made-up keys share their address's
 * budget, so guessing keys is throttled while real keys keep their own budgets.
 */
import net from 'node:net';
import sharp from 'sharp';
import { metricValue } from '../../tools/prometheus-text';
import { distinctImages } from '../../tools/answer-key';
import { pngHeaderClaiming } from '../helpers/images';
import { READY_TIMEOUT_MS, startService, type Sent, type TestService } from '../helpers/service';

const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;
const TEST_TIMEOUT_MS = 60_000;
const KEY_A = 'limits-key-a-0123456789';
const KEY_B = 'limits-key-b-9876543210';
/** Used by the rate-limit test alone, so its budget is whole when the test starts. */
const KEY_C = 'limits-key-c-5555555555';
const RATE_LIMIT = 12;
const BODY_LIMIT_BYTES = 256 * 1024;
const PIXEL_LIMIT = 1_000_000;
/** A streamed upload many times the limit, sent in chunks while watching for the answer. */
const STREAMED_BYTES = 64 * 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;
const STAGES = ['probe', 'decode', 'detect', 'classify'] as const;

let service: TestService;
let image: Buffer;

beforeAll(async () => {
  service = await startService({
    env: {
      API_KEYS: `${KEY_A},${KEY_B},${KEY_C}`,
      RATE_LIMIT_MAX: String(RATE_LIMIT),
      MAX_BODY_BYTES: String(BODY_LIMIT_BYTES),
      MAX_IMAGE_PIXELS: String(PIXEL_LIMIT),
    },
  });
  [image] = await distinctImages(1, 9);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await service?.close();
});

/** Images that reached each stage so far (GET /metrics is not rate limited). */
async function stages(): Promise<Record<string, number>> {
  const text = (await service.request('GET', '/metrics', { headers: { 'x-api-key': KEY_A } })).text;
  return Object.fromEntries(
    STAGES.map((stage) => [stage, metricValue(text, 'fer_predict_stage_total', { stage })]),
  );
}

async function workDoneBy(send: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = await stages();
  await send();
  const after = await stages();
  return Object.fromEntries(STAGES.map((stage) => [stage, after[stage] - before[stage]]));
}

const NO_WORK = { probe: 0, decode: 0, detect: 0, classify: 0 };

function predict(body: Buffer, key = KEY_A, query = '', type = 'image/png'): Promise<Sent> {
  return service.request('POST', `/predict${query}`, {
    headers: { 'content-type': type, 'x-api-key': key },
    body,
  });
}

interface StreamResult {
  status: number;
  body: string;
  /** Body bytes written before the answer came back. */
  sentBeforeAnswer: number;
}

/**
 * Streams up to `total` body bytes (chunked, or with a Content-Length) and stops as soon as the
 * server answers.
 */
function streamUpload(total: number, chunked: boolean): Promise<StreamResult> {
  const { port } = new URL(service.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let answer = '';
    let sent = 0;
    let answered = false;
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The server may close while we still write: the answer has already arrived then.
      if (!answered) reject(error);
    });
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
      if (!answered && answer.includes('\r\n\r\n')) {
        answered = true;
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
        // Let the body arrive before reporting.
        setTimeout(() => {
          socket.destroy();
          resolve({ status, body: answer.split('\r\n\r\n').slice(1).join(''), sentBeforeAnswer: sent });
        }, 50);
      }
    });
    socket.on('connect', () => {
      const length = chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${total}`;
      socket.write(
        `POST /predict HTTP/1.1\r\nHost: x\r\nx-api-key: ${KEY_A}\r\nContent-Type: image/png\r\n${length}\r\n\r\n`,
      );
      const chunk = Buffer.alloc(CHUNK_BYTES, 0x89);
      const framed = chunked
        ? Buffer.concat([Buffer.from(`${CHUNK_BYTES.toString(16)}\r\n`), chunk, Buffer.from('\r\n')])
        : chunk;
      const pump = () => {
        while (!answered && sent < total) {
          sent += CHUNK_BYTES;
          if (!socket.write(framed)) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
  });
}

test.each([
  ['a body declared larger than the limit is refused at once, unread', false],
  ['a streamed (chunked) body is cut off at the limit, not read to its end', true],
])(
  '%s',
  async (_name, chunked) => {
    const work = await workDoneBy(async () => {
      const result = await streamUpload(STREAMED_BYTES, chunked);
      expect(result.status).toBe(413);
      expect(JSON.parse(result.body).error.code).toBe('PAYLOAD_TOO_LARGE');
      // Refused from the Content-Length, or at the limit: far less than the body was sent before the answer.
      expect(result.sentBeforeAnswer).toBeLessThan(STREAMED_BYTES / 4);
    });
    expect(work).toEqual(NO_WORK);
  },
  TEST_TIMEOUT_MS,
);

test(
  'a multipart file over the limit is refused before any decoding',
  async () => {
    const work = await workDoneBy(async () => {
      const response = await service.request('POST', '/predict', {
        headers: { 'x-api-key': KEY_A },
        body: (() => {
          const form = new FormData();
          form.append('image', new Blob([Buffer.alloc(BODY_LIMIT_BYTES * 2, 1)]), 'big.png');
          return form;
        })(),
      });
      expect(response.status).toBe(413);
    });
    expect(work).toEqual(NO_WORK);
  },
  TEST_TIMEOUT_MS,
);

test(
  'a pixel bomb is refused after its header is read, never decoded or detected',
  async () => {
    // Real, decodable images: a 2000x2000 PNG of one colour is a few kilobytes.
    const bomb = await sharp({ create: { width: 2000, height: 2000, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    expect(bomb.length).toBeLessThan(BODY_LIMIT_BYTES);
    const rotatedBomb = await sharp({
      create: { width: 4000, height: 300, channels: 3, background: '#808080' },
    })
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    for (const body of [bomb, rotatedBomb, pngHeaderClaiming(100_000, 100_000)]) {
      const work = await workDoneBy(async () => {
        const response = await predict(body);
        expect(response.status).toBe(422);
        expect(response.body.error.code).toBe('IMAGE_TOO_LARGE');
      });
      expect(work).toEqual({ ...NO_WORK, probe: 1 });
    }
    // Just under the limit, the same kind of image is decoded and goes through detection.
    const fits = await sharp({ create: { width: 1000, height: 1000, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    const work = await workDoneBy(async () => expect((await predict(fits)).status).toBe(200));
    expect(work).toEqual({ probe: 1, decode: 1, detect: 1, classify: 0 });
  },
  TEST_TIMEOUT_MS,
);

test(
  'rate limits are per key; made-up keys share their address budget; refused requests cost nothing',
  async () => {
    const statusesC: number[] = [];
    for (let i = 0; i < RATE_LIMIT; i++) statusesC.push((await predict(image, KEY_C, '?crop=none')).status);
    expect(statusesC).toEqual(Array(RATE_LIMIT).fill(200));
    const limited = await workDoneBy(async () => {
      const response = await predict(image, KEY_C, '?crop=none');
      expect(response.status).toBe(429);
      expect(response.body.error.code).toBe('RATE_LIMITED');
    });
    expect(limited).toEqual(NO_WORK);
    // Key B has its own budget.
    expect((await predict(image, KEY_B, '?crop=none')).status).toBe(200);

    // Guessing: every made-up key is a 401 and counts against the address, until all get 429.
    const guesses: number[] = [];
    for (let i = 0; i < RATE_LIMIT + 2; i++)
      guesses.push((await predict(image, `guess-${i}-${Math.random()}`)).status);
    expect(guesses.slice(0, RATE_LIMIT)).toEqual(Array(RATE_LIMIT).fill(401));
    expect(guesses.slice(RATE_LIMIT)).toEqual([429, 429]);
    const unauthenticated = await workDoneBy(() => predict(image, 'yet-another-guess'));
    expect(unauthenticated).toEqual(NO_WORK);
    // The real key B is not throttled by the guessing from the same address.
    expect((await predict(image, KEY_B, '?crop=none')).status).toBe(200);
  },
  TEST_TIMEOUT_MS,
);
