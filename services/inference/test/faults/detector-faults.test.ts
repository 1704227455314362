/**
 * Face-detector faults while other requests are in flight:
 *   - the detector throws for one image (its worker's TF.js call fails): that request gets 500
 *     INTERNAL_ERROR with a generic message, concurrent requests get their own answers, and the
 *     next detection succeeds on the same worker;
 *   - the detector's worker thread dies during a detection: that request gets 500, the worker is
 *     replaced, and requests sent meanwhile wait for it and succeed.
 * Faults are injected at the worker boundary: the detect message is corrupted (so the real worker
 * code fails on it) or the worker is terminated right after receiving it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { answerKey, distinctImages, shuffledIndices, type AnswerKey } from '../helpers/answer-key';
import { HAVE_PHOTOS, PHOTOS_DIR } from '../helpers/images';
import { captureLogs } from '../helpers/log-capture';
import { READY_TIMEOUT_MS, startService, waitUntil, type Sent, type TestService } from '../helpers/service';

const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;
/** A replaced worker loads TF.js and the detector weights again: seconds on a busy machine. */
const RESPAWN_TIMEOUT_MS = 60_000;
const TEST_TIMEOUT_MS = RESPAWN_TIMEOUT_MS + 30_000;
const CROPS = 8;
/** Probabilities of the same face through the same pipeline agree within this. */
const SAME_ANSWER_TOLERANCE = 1e-4;

interface DetectMessage {
  kind: string;
  width: number;
  height: number;
}

interface PoolInternals {
  slots: { worker: Worker }[];
}

let service: TestService;
const logs = captureLogs('info');
let crops: Buffer[];
let key: AnswerKey;
/** A photo with one face when the shared photos are there, else a blank picture (no face). */
let photo: Buffer;
let photoAnswer: Sent;

beforeAll(async () => {
  service = await startService({ logger: logs.logger });
  crops = await distinctImages(CROPS, 4);
  key = await answerKey((image) => service.predict(image, '?crop=none', 'image/png'), crops);
  photo = HAVE_PHOTOS
    ? await sharp(await readFile(path.join(PHOTOS_DIR, 'faceapi_happy.jpg')))
        .resize(640, 640, { fit: 'inside' })
        .jpeg()
        .toBuffer()
    : await sharp({ create: { width: 320, height: 240, channels: 3, background: '#c0b0a0' } })
        .jpeg()
        .toBuffer();
  photoAnswer = await service.predict(photo);
  expect(photoAnswer.status).toBe(200);
  if (HAVE_PHOTOS) expect(photoAnswer.body.faces).toHaveLength(1);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await service?.close();
});

function pool(): PoolInternals {
  return (service.app.detector as unknown as { pool: PoolInternals }).pool;
}

/** Runs `onDetect` on the next detect message posted to the (single) detector worker. */
function onNextDetect(onDetect: (worker: Worker, message: DetectMessage) => DetectMessage | null): void {
  const { worker } = pool().slots[0];
  const post = worker.postMessage.bind(worker);
  worker.postMessage = (message: DetectMessage, transfer?: readonly ArrayBuffer[]) => {
    if (message.kind !== 'detect') return post(message, transfer);
    worker.postMessage = post;
    const replaced = onDetect(worker, message);
    // A crash: the worker starts dying as the image is handed to it (it cannot answer first).
    if (replaced === null) void worker.terminate();
    post(replaced ?? message, transfer);
  };
}

function expectSameAsPhotoAnswer(response: Sent): void {
  expect(response.status).toBe(200);
  expect(response.body.faces).toHaveLength(photoAnswer.body.faces.length);
  response.body.faces.forEach((face: { probabilities: Record<string, number> }, i: number) => {
    for (const [name, p] of Object.entries(face.probabilities)) {
      expect(Math.abs(p - photoAnswer.body.faces[i].probabilities[name])).toBeLessThan(SAME_ANSWER_TOLERANCE);
    }
  });
}

/** The failing photo request and, concurrently, every crop (crop=none) in a shuffled order. */
async function photoAmongCrops(
  seed: number,
): Promise<{ failing: Sent; others: { index: number; response: Sent }[] }> {
  const [failing, others] = await Promise.all([
    service.predict(photo),
    Promise.all(
      shuffledIndices(CROPS, 1, seed).map(async (index) => ({
        index,
        response: await service.predict(crops[index], '?crop=none', 'image/png'),
      })),
    ),
  ]);
  return { failing, others };
}

function expectInternalError(response: Sent): void {
  expect(response.status).toBe(500);
  expect(response.body.error.code).toBe('INTERNAL_ERROR');
  expect(response.body.error.message).toContain(response.headers['x-request-id']);
  expect(response.text).not.toMatch(/\n\s+at |\/tmp\/|node_modules|tensor|shape|worker/i);
}

function expectOwnAnswers(others: { index: number; response: Sent }[]): void {
  expect(others.map((o) => o.response.status)).toEqual(Array(CROPS).fill(200));
  const mixedUp = others.filter((o) => !key.isAnswerTo(o.index, o.response.body.faces[0].probabilities));
  expect(mixedUp.map((o) => o.index)).toEqual([]);
}

test(
  'the detector throws for one image: that request gets 500, the others their own answers',
  async () => {
    // A detect message whose pixels do not match its size makes the worker's TF.js call throw.
    onNextDetect((_worker, message) => ({ ...message, width: message.width + 1 }));
    const { failing, others } = await photoAmongCrops(1);
    expectInternalError(failing);
    expectOwnAnswers(others);
    // Logged in full for operators, under the request id the client was given.
    const logged = logs.withMessage('request failed').at(-1);
    expect(logged?.reqId).toBe(failing.headers['x-request-id']);
    expectSameAsPhotoAnswer(await service.predict(photo));
  },
  TEST_TIMEOUT_MS,
);

test(
  'the detector worker dies mid-detection: that request gets 500, the worker is replaced',
  async () => {
    const crashed = pool().slots[0].worker;
    onNextDetect(() => null);
    const { failing, others } = await photoAmongCrops(2);
    expectInternalError(failing);
    expectOwnAnswers(others);
    // Sent while no worker is up: it waits for the replacement instead of failing.
    const meanwhile = await service.predict(photo);
    expectSameAsPhotoAnswer(meanwhile);
    await waitUntil(
      () => pool().slots.length === 1 && pool().slots[0].worker !== crashed,
      RESPAWN_TIMEOUT_MS,
      'the replacement worker',
    );
    expect((await service.request('GET', '/readyz')).status).toBe(200);
  },
  TEST_TIMEOUT_MS,
);
