/**
 * Request bodies are bounded as a whole, and only images and multipart uploads are parsed (issue
 * 16, items 3 and 6), over real HTTP on raw sockets:
 *   - MAX_BODY_BYTES bounds the whole body of every content type: a multipart body declared or
 *     streamed past it is refused (413) while most of it is still unsent, whatever part of the
 *     framing carries the bytes (a preamble before the first boundary, a part header);
 *   - the framing has its own small limits (preamble, part header, field value, epilogue), so an
 *     upload within MAX_BODY_BYTES cannot hide megabytes the service would read for nothing;
 *   - a JSON or text body is refused (415) from its Content-Type, before the body has even
 *     arrived: no parser reads it;
 *   - a client still uploading when its refusal comes reads the 413 (the connection lingers a
 *     moment, dropping what still arrives, instead of being reset).
 * Nothing refused here reaches a costly stage (fer_predict_stage_total).
 */
import { metricValue } from '../../tools/prometheus-text';
import { distinctImages } from '../../tools/answer-key';
import { rawUpload, type RawAnswer } from '../../tools/raw-http';
import { READY_TIMEOUT_MS, startService, type TestService } from '../helpers/service';

const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;
const TEST_TIMEOUT_MS = 60_000;
/** An answer that needs no more of the body comes well within this. */
const ANSWER_TIMEOUT_MS = 15_000;
const BODY_LIMIT_BYTES = 256 * 1024;
/** Far more than the limit: refused early, only a fraction of it is ever sent. */
const HUGE_BYTES = 64 * 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;
const BOUNDARY = 'fer-test-boundary-7';
const STAGES = ['probe', 'decode', 'detect', 'classify'] as const;
/** Closing a service with no request in progress takes less than this (the bug held it 70 s). */
const CLOSE_TIMEOUT_MS = 10_000;
/** Early refusals raced against a client still sending: each must be read, not reset. */
const REPEATS = 10;

let service: TestService;
let image: Buffer;

beforeAll(async () => {
  service = await startService({ env: { MAX_BODY_BYTES: String(BODY_LIMIT_BYTES) } });
  [image] = await distinctImages(1, 12);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await service?.close();
});

async function stages(): Promise<number[]> {
  const text = (await service.request('GET', '/metrics')).text;
  return STAGES.map((stage) => metricValue(text, 'fer_predict_stage_total', { stage }));
}

/** A multipart body: `before` (e.g. a preamble), then one image part with `header` added. */
function multipart(options: { before?: Buffer; header?: string; field?: string }): Buffer {
  const field =
    options.field === undefined
      ? ''
      : `--${BOUNDARY}\r\nContent-Disposition: form-data; name="note"\r\n\r\n${options.field}\r\n`;
  const part =
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="face.png"\r\n` +
    `${options.header ?? ''}Content-Type: image/png\r\n\r\n`;
  return Buffer.concat([
    options.before ?? Buffer.alloc(0),
    Buffer.from(field + part),
    image,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

function head(length: number | 'chunked', contentType = `multipart/form-data; boundary=${BOUNDARY}`): string {
  const framing = length === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${length}`;
  return `POST /predict?crop=none HTTP/1.1\r\nHost: x\r\nContent-Type: ${contentType}\r\n${framing}`;
}

/** Offers `total` bytes of which the first ones are `start`, the rest `filler`. */
function body(start: Buffer, filler: number) {
  const fill = Buffer.alloc(CHUNK_BYTES, filler);
  return (offset: number) => (offset < start.length ? start.subarray(offset, offset + CHUNK_BYTES) : fill);
}

async function refused(send: () => Promise<RawAnswer>, status: number, code: string, message?: RegExp) {
  const before = await stages();
  const answer = await send();
  expect({ status: answer.status, code: JSON.parse(answer.body).error.code }).toEqual({ status, code });
  if (message) expect(JSON.parse(answer.body).error.message).toMatch(message);
  expect(answer.headers['x-request-id']).toBeTruthy();
  expect(await stages()).toEqual(before);
  return answer;
}

test(
  'a client still uploading after an early refusal reads its 413, every time (no connection reset)',
  async () => {
    const statuses: string[] = [];
    for (let i = 0; i < REPEATS; i++) {
      const declared = rawUpload(
        service.url,
        { head: head(HUGE_BYTES), total: HUGE_BYTES, chunk: body(Buffer.alloc(0), 0x20) },
        ANSWER_TIMEOUT_MS,
      );
      const streamed = rawUpload(
        service.url,
        { head: head('chunked'), total: HUGE_BYTES, chunked: true, chunk: body(Buffer.alloc(0), 0x2d) },
        ANSWER_TIMEOUT_MS,
      );
      statuses.push(
        ...(await Promise.all([declared, streamed])).map((a) => `${a.status} ${a.socketError ?? 'clean'}`),
      );
    }
    // Closed at once, the connection met the client's next write with a reset (EPIPE): the answer
    // was lost whenever that write came before the client had read it.
    expect(statuses).toEqual(Array(2 * REPEATS).fill('413 clean'));
  },
  TEST_TIMEOUT_MS,
);

test(
  'a multipart body declared larger than MAX_BODY_BYTES is refused unread',
  async () => {
    const answer = await refused(
      () =>
        rawUpload(
          service.url,
          { head: head(HUGE_BYTES), total: HUGE_BYTES, chunk: body(Buffer.from('preamble'), 0x20) },
          ANSWER_TIMEOUT_MS,
        ),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    expect(answer.sentBeforeAnswer).toBeLessThan(HUGE_BYTES / 4);
    expect(answer.headers.connection).toBe('close');
  },
  TEST_TIMEOUT_MS,
);

test.each<[string, Buffer, RegExp]>([
  ['a streamed preamble before the first boundary', Buffer.alloc(0), /preamble/],
  ['a streamed part header', Buffer.from(`--${BOUNDARY}\r\nX-Padding: `), /part header/],
])(
  '%s is cut off at its limit, not read to its end',
  async (_name, start, message) => {
    const answer = await refused(
      () =>
        rawUpload(
          service.url,
          { head: head('chunked'), total: HUGE_BYTES, chunked: true, chunk: body(start, 0x61) },
          ANSWER_TIMEOUT_MS,
        ),
      413,
      'PAYLOAD_TOO_LARGE',
      message,
    );
    expect(answer.sentBeforeAnswer).toBeLessThan(HUGE_BYTES / 4);
    expect(answer.headers.connection).toBe('close');
  },
  TEST_TIMEOUT_MS,
);

test.each<[string, Parameters<typeof multipart>[0], RegExp]>([
  // Each within MAX_BODY_BYTES as a whole, with a good image part after it.
  ['a 200 KB preamble', { before: Buffer.alloc(200 * 1024, 0x20) }, /preamble/],
  ['a 200 KB part header', { header: `X-Padding: ${'h'.repeat(200 * 1024)}\r\n` }, /part header/],
  ['a 100 KB field value', { field: 'v'.repeat(100 * 1024) }, /field value/],
])(
  'a multipart upload with %s is refused although its image is fine',
  async (_name, options, message) => {
    const bytes = multipart(options);
    expect(bytes.length).toBeLessThan(BODY_LIMIT_BYTES);
    await refused(
      () =>
        rawUpload(
          service.url,
          {
            head: head(bytes.length),
            total: bytes.length,
            chunk: (at) => bytes.subarray(at, at + CHUNK_BYTES),
          },
          ANSWER_TIMEOUT_MS,
        ),
      413,
      'PAYLOAD_TOO_LARGE',
      message,
    );
  },
  TEST_TIMEOUT_MS,
);

test(
  'the same upload without them is served',
  async () => {
    const bytes = multipart({ before: Buffer.from('A short preamble.\r\n'), field: 'a note' });
    const answer = await rawUpload(
      service.url,
      { head: head(bytes.length), total: bytes.length, chunk: (at) => bytes.subarray(at, at + CHUNK_BYTES) },
      ANSWER_TIMEOUT_MS,
    );
    expect(answer.status).toBe(200);
  },
  TEST_TIMEOUT_MS,
);

test.each([
  ['a nested JSON body', 'application/json', '['],
  ['a text body', 'text/plain', 'a'],
  ['a form body', 'application/x-www-form-urlencoded', 'a'],
])(
  '%s is refused with 415 from its Content-Type, before its body has arrived',
  async (_name, contentType, character) => {
    expect(service.app.hasContentTypeParser(contentType)).toBe(false);
    // Declared within the limit, but only its start is ever sent: an answer means nothing waited for it.
    const declared = BODY_LIMIT_BYTES - 1;
    const start = Buffer.alloc(1024, character);
    await refused(
      () =>
        rawUpload(
          service.url,
          { head: head(declared, contentType), total: start.length, chunk: () => start },
          ANSWER_TIMEOUT_MS,
        ),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  },
  TEST_TIMEOUT_MS,
);

test(
  'a refused body within the limit does not hold its connection: the service still closes promptly',
  async () => {
    const own = await startService({ env: { MAX_BODY_BYTES: String(BODY_LIMIT_BYTES) } });
    let closed = false;
    try {
      // More than the stream buffers hold, so that an unread rest would pause the connection.
      const start = Buffer.alloc(200 * 1024, '[');
      const answer = await rawUpload(
        own.url,
        { head: head(BODY_LIMIT_BYTES - 1, 'application/json'), total: start.length, chunk: () => start },
        ANSWER_TIMEOUT_MS,
      );
      expect(answer.status).toBe(415);
      // The client has gone. A body left paused kept its connection open until the idle timeout,
      // and a shutdown waited for it to the end of its drain timeout.
      const closing = own.close().then(() => (closed = true));
      await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS))]);
      expect(closed).toBe(true);
    } finally {
      if (!closed) own.app.server.closeAllConnections();
    }
  },
  TEST_TIMEOUT_MS,
);
