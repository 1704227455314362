/**
 * POST /predict over real HTTP against real small models: normal answers, and every kind of bad
 * input answered with a clear 4xx and its code, after which the service still serves.
 */
import sharp from 'sharp';
import { CLASSES } from '@fer/shared';
import { animatedGif, faceCrop, PDF_BYTES, pngHeaderClaiming, SVG_IMAGE } from '../helpers/images';
import { READY_TIMEOUT_MS, startService, type Sent, type TestService } from '../helpers/service';
import { TEST_MODEL } from '../helpers/test-models';

/** Softmax outputs are float32: their sum is 1 within this. */
const PROBABILITY_SUM_TOLERANCE = 1e-4;
/** The same input through the same model gives the same float32 answer within this. */
const SAME_ANSWER_TOLERANCE = 1e-6;
const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;
const FIFTY_MB = 50 * 1024 * 1024;

let service: TestService;
let face: Buffer;

beforeAll(async () => {
  service = await startService();
  face = await faceCrop('jpeg');
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await service?.close();
});

function expectError(response: Sent, status: number, code: string): void {
  expect({ status: response.status, code: response.body?.error?.code }).toEqual({ status, code });
  expect(response.body.error.message.length).toBeGreaterThan(0);
  expect(response.text).not.toMatch(/\n\s+at |\/tmp\/|node_modules/);
}

async function expectStillServing(): Promise<void> {
  const response = await service.predict(face, '?crop=none');
  expect(response.status).toBe(200);
}

describe('POST /predict', () => {
  test('crop=none classifies the whole image as one face with six probabilities', async () => {
    const response = await service.predict(face, '?crop=none');
    expect(response.status).toBe(200);
    const { model, image, faces, timings_ms } = response.body;
    expect(model).toEqual({ name: TEST_MODEL, version: 1 });
    expect(image).toEqual({ width: 48, height: 48, format: 'jpeg' });
    expect(faces).toHaveLength(1);
    const [only] = faces;
    expect(only.box).toEqual({ left: 0, top: 0, width: 48, height: 48 });
    expect(only.detection_score).toBeNull();
    expect(Object.keys(only.probabilities)).toEqual([...CLASSES]);
    const values = Object.values(only.probabilities) as number[];
    expect(Math.abs(values.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(PROBABILITY_SUM_TOLERANCE);
    expect(only.label).toBe(CLASSES[values.indexOf(Math.max(...values))]);
    expect(timings_ms.total).toBeGreaterThan(0);
    expect(response.headers['x-request-id']).toBeTruthy();
  });

  test('the same image as multipart, PNG or WebP gets the same answer', async () => {
    const raw = (await service.predict(await faceCrop('png'), '?crop=none', 'image/png')).body.faces[0]
      .probabilities;
    const multipart = await service.predictMultipart(
      [{ field: 'image', bytes: await faceCrop('png'), filename: 'face.png', type: 'image/png' }],
      '?crop=none',
    );
    expect(multipart.status).toBe(200);
    for (const name of CLASSES) {
      expect(Math.abs(multipart.body.faces[0].probabilities[name] - raw[name])).toBeLessThan(
        SAME_ANSWER_TOLERANCE,
      );
    }
    const webp = await service.predict(await faceCrop('webp'), '?crop=none', 'image/webp');
    expect(webp.status).toBe(200);
    expect(webp.body.image.format).toBe('webp');
  });

  test('different faces get different probabilities (the model really runs)', async () => {
    const a = (await service.predict(await faceCrop('png', 0), '?crop=none', 'image/png')).body.faces[0]
      .probabilities;
    const b = (await service.predict(await faceCrop('png', 5), '?crop=none', 'image/png')).body.faces[0]
      .probabilities;
    expect(CLASSES.some((name) => Math.abs(a[name] - b[name]) > SAME_ANSWER_TOLERANCE)).toBe(true);
  });

  test('an image without a face is a success with no faces', async () => {
    const blank = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();
    const response = await service.predict(blank, '', 'image/png');
    expect(response.status).toBe(200);
    expect(response.body.faces).toEqual([]);
  });

  test('a pinned version and an explicit model name are honoured', async () => {
    const response = await service.predict(face, `?crop=none&model=${TEST_MODEL}&version=1`);
    expect(response.status).toBe(200);
    expect(response.body.model).toEqual({ name: TEST_MODEL, version: 1 });
  });

  test('a client request id is echoed, an unsafe one replaced', async () => {
    const mine = await service.request('GET', '/healthz', { headers: { 'x-request-id': 'client-abc.123' } });
    expect(mine.headers['x-request-id']).toBe('client-abc.123');
    const unsafe = await service.request('GET', '/healthz', {
      headers: { 'x-request-id': 'bad id\twith spaces' },
    });
    expect(unsafe.headers['x-request-id']).not.toContain(' ');
  });
});

describe('bad input gets a clear 4xx and the service keeps serving', () => {
  const truncatedJpeg = async () => (await faceCrop('jpeg')).subarray(0, 300);
  const random = () => Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251));

  test.each<[string, () => Promise<Sent>, number, string]>([
    ['an empty body', () => service.predict(Buffer.alloc(0)), 400, 'INVALID_REQUEST'],
    ['no body and no content type', () => service.request('POST', '/predict'), 400, 'INVALID_REQUEST'],
    ['a truncated JPEG', async () => service.predict(await truncatedJpeg()), 422, 'UNDECODABLE_IMAGE'],
    ['random bytes', async () => service.predict(random()), 422, 'UNDECODABLE_IMAGE'],
    [
      'a text/plain body',
      () => service.request('POST', '/predict', { headers: { 'content-type': 'text/plain' }, body: 'hello' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'a JSON body',
      () =>
        service.request('POST', '/predict', {
          headers: { 'content-type': 'application/json' },
          body: '{"a":1}',
        }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'an unknown content type',
      () => service.request('POST', '/predict', { headers: { 'content-type': 'image/bmp' }, body: 'BM....' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'an SVG sent as image/svg+xml',
      () => service.predict(SVG_IMAGE, '', 'image/svg+xml'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'an SVG sent as image/png',
      () => service.predict(SVG_IMAGE, '', 'image/png'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'an animated GIF sent as image/png',
      async () => service.predict(await animatedGif(), '', 'image/png'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    ['a PDF sent as image/jpeg', () => service.predict(PDF_BYTES), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    [
      'a 20000x20000 PNG header',
      () => service.predict(pngHeaderClaiming(20000, 20000), '', 'image/png'),
      422,
      'IMAGE_TOO_LARGE',
    ],
    ['a 50 MB raw body', () => service.predict(Buffer.alloc(FIFTY_MB, 0xff)), 413, 'PAYLOAD_TOO_LARGE'],
    [
      'a 50 MB multipart file',
      () =>
        service.predictMultipart([
          { field: 'image', bytes: Buffer.alloc(FIFTY_MB, 0xff), filename: 'big.jpg', type: 'image/jpeg' },
        ]),
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    [
      'multipart without the image field',
      async () =>
        service.predictMultipart([{ field: 'photo', bytes: face, filename: 'f.jpg', type: 'image/jpeg' }]),
      400,
      'INVALID_REQUEST',
    ],
    [
      'multipart with only a text field',
      () => {
        const form = new FormData();
        form.append('note', 'hello');
        return service.request('POST', '/predict', { body: form });
      },
      400,
      'INVALID_REQUEST',
    ],
    [
      'multipart with two files',
      () =>
        service.predictMultipart([
          { field: 'image', bytes: face, filename: 'a.jpg', type: 'image/jpeg' },
          { field: 'image', bytes: face, filename: 'b.jpg', type: 'image/jpeg' },
        ]),
      400,
      'INVALID_REQUEST',
    ],
    [
      'a malformed multipart body',
      () =>
        service.request('POST', '/predict', {
          headers: { 'content-type': 'multipart/form-data; boundary=XYZ' },
          body: '--XYZ\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\nabc',
        }),
      400,
      'INVALID_REQUEST',
    ],
    ['an unknown model', () => service.predict(face, '?model=nosuchmodel'), 404, 'MODEL_NOT_FOUND'],
    [
      'an unknown version',
      () => service.predict(face, `?model=${TEST_MODEL}&version=99`),
      404,
      'MODEL_NOT_FOUND',
    ],
    [
      'a version the default model lacks (no model named)',
      () => service.predict(face, '?version=99'),
      404,
      'MODEL_NOT_FOUND',
    ],
    [
      'a model name with a path in it',
      () => service.predict(face, '?model=..%2F..%2Fetc'),
      404,
      'MODEL_NOT_FOUND',
    ],
    ['faces=some', () => service.predict(face, '?faces=some'), 400, 'INVALID_REQUEST'],
    ['version=abc', () => service.predict(face, '?version=abc'), 400, 'INVALID_REQUEST'],
    ['max_faces=0', () => service.predict(face, '?max_faces=0'), 400, 'INVALID_REQUEST'],
    ['an unknown parameter', () => service.predict(face, '?face=largest'), 400, 'INVALID_REQUEST'],
    ['an unknown route', () => service.request('GET', '/predictions'), 404, 'NOT_FOUND'],
    ['a wrong method', () => service.request('GET', '/predict'), 404, 'NOT_FOUND'],
  ])('%s', async (_name, send, status, code) => {
    expectError(await send(), status, code);
    await expectStillServing();
  });
});
