/**
 * Slow clients over real sockets (issue 16, item 4), with short timeouts so the test is quick:
 *   - a request that declares a body and never sends it gets 408 REQUEST_TIMEOUT (the API's error
 *     body) once UPLOAD_TIMEOUT_MS has passed, and its connection is closed;
 *   - headers sent one byte at a time get the same once HEADERS_TIMEOUT_MS has passed;
 *   - while 20 such connections are held open, normal requests are served with their own answers.
 */
import { answerKey, distinctImages, type AnswerKey } from '../../tools/answer-key';
import { rawUpload, trickle, type RawAnswer } from '../../tools/raw-http';
import { READY_TIMEOUT_MS, startService, type TestService } from '../helpers/service';

const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;
const TEST_TIMEOUT_MS = 60_000;
const HEADERS_TIMEOUT_MS = 1_000;
const UPLOAD_TIMEOUT_MS = 2_000;
/** Node looks for timed-out requests every HEADERS_TIMEOUT_MS / 10; a loaded machine adds some. */
const CLOSE_SLACK_MS = 3_000;
const SLOW_CONNECTIONS = 20;
/** One header byte per this many ms: a slowloris client. */
const TRICKLE_MS = 200;
const IMAGES = 4;

let service: TestService;
let images: Buffer[];
let key: AnswerKey;

beforeAll(async () => {
  service = await startService({
    env: { HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), UPLOAD_TIMEOUT_MS: String(UPLOAD_TIMEOUT_MS) },
  });
  images = await distinctImages(IMAGES, 13);
  key = await answerKey((image) => service.predict(image, '?crop=none', 'image/png'), images);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await service?.close();
});

/** A request whose body is declared but never sent. */
const stalledBody = () =>
  rawUpload(
    service.url,
    {
      head: 'POST /predict?crop=none HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 100000',
      total: 0,
      chunk: () => Buffer.alloc(0),
    },
    UPLOAD_TIMEOUT_MS + CLOSE_SLACK_MS,
  );

/** Headers sent one byte at a time, never finished within the timeout. */
const slowHeaders = () =>
  trickle(
    service.url,
    `GET /models HTTP/1.1\r\nHost: x\r\nX-Slow: ${'s'.repeat(200)}\r\n\r\n`,
    TRICKLE_MS,
    HEADERS_TIMEOUT_MS + CLOSE_SLACK_MS,
  );

function expectTimedOut(answer: RawAnswer, limitMs: number): void {
  expect(answer.status).toBe(408);
  expect(JSON.parse(answer.body)).toEqual({
    error: { code: 'REQUEST_TIMEOUT', message: expect.any(String) },
  });
  expect(answer.headers.connection).toBe('close');
  expect(answer.headers['x-request-id']).toBeTruthy();
  expect(answer.answeredAfterMs).toBeGreaterThanOrEqual(limitMs);
}

test(
  'a declared body that never comes: 408 after UPLOAD_TIMEOUT_MS, connection closed',
  async () => {
    expectTimedOut(await stalledBody(), UPLOAD_TIMEOUT_MS);
  },
  TEST_TIMEOUT_MS,
);

test(
  'headers sent a byte at a time: 408 after HEADERS_TIMEOUT_MS, connection closed',
  async () => {
    expectTimedOut(await slowHeaders(), HEADERS_TIMEOUT_MS);
  },
  TEST_TIMEOUT_MS,
);

test(
  `${SLOW_CONNECTIONS} slow connections held open do not stop normal requests`,
  async () => {
    const slow = Array.from({ length: SLOW_CONNECTIONS }, (_, i) =>
      i % 2 === 0 ? stalledBody() : slowHeaders(),
    );
    // While they are held: each normal request gets its own answer.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < IMAGES; i++) {
        const response = await service.predict(images[i], '?crop=none', 'image/png');
        expect(response.status).toBe(200);
        expect(key.isAnswerTo(i, response.body.faces[0].probabilities)).toBe(true);
      }
    }
    const answers = await Promise.all(slow);
    expect(answers.map((a) => a.status)).toEqual(Array(SLOW_CONNECTIONS).fill(408));
  },
  TEST_TIMEOUT_MS,
);
