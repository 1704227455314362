/**
 * Face-detector faults while other photos are in flight through the same detector:
 *   - the detector throws for one image (its worker's call fails): that request gets 500
 *     INTERNAL_ERROR with a generic message, the photos sent meanwhile (queued behind it on the
 *     same worker) get their own faces' answers, and the next detection succeeds on that worker;
 *   - the detector's worker thread dies during a detection: that request gets 500, the worker is
 *     replaced, and the photos waiting for it succeed with their own answers.
 * The other traffic is one-face photos of ../shared/photos sent with face detection (crop=auto),
 * whose answers are known beforehand and all differ, so a swapped answer fails; skipped, with a
 * message, when the photos are absent. Faults are injected at the worker boundary: the detect
 * message is corrupted (so the real worker code fails on it) or the worker is terminated right
 * after receiving it.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { answerKey, shuffledIndices, type AnswerKey } from '../../tools/answer-key';
import { HAVE_PHOTOS, PHOTOS_DIR } from '../helpers/images';
import { captureLogs } from '../helpers/log-capture';
import { READY_TIMEOUT_MS, startService, waitUntil, type Sent, type TestService } from '../helpers/service';

const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;
/** A replaced worker loads TF.js and the detector weights again: seconds on a busy machine. */
const RESPAWN_TIMEOUT_MS = 60_000;
const TEST_TIMEOUT_MS = RESPAWN_TIMEOUT_MS + 30_000;
/** One-face photos (SOURCES.txt), each with its own expression: distinct answers. */
const OTHER_PHOTOS = [
  'faceapi_angry.jpg',
  'faceapi_sad.jpg',
  'faceapi_surprised.jpg',
  'faceapi_neutral.jpg',
  'faceapi_fearful.jpg',
  'deepface_img12.jpg',
  'deepface_img62.jpg',
  'deepface_img32.jpg',
];
const CROPS = OTHER_PHOTOS.length;
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
/** The other photos, sent with face detection while a fault happens. */
let others: Buffer[];
let key: AnswerKey;
/** The photo whose detection fails. */
let photo: Buffer;
let photoAnswer: Sent;

const photoFile = (name: string) =>
  readFile(path.join(PHOTOS_DIR, name)).then((bytes) =>
    sharp(bytes).resize(640, 640, { fit: 'inside', withoutEnlargement: true }).jpeg().toBuffer(),
  );

if (!HAVE_PHOTOS) console.warn(`Skipping the detector fault tests: ${PHOTOS_DIR} is absent.`);
const photoTest = HAVE_PHOTOS ? test : test.skip;

beforeAll(async () => {
  if (!HAVE_PHOTOS) return;
  service = await startService({ logger: logs.logger });
  others = await Promise.all(OTHER_PHOTOS.map(photoFile));
  // Each photo alone, with face detection: its one face's answer (AnswerKey checks they all differ).
  key = await answerKey((image) => service.predict(image), others);
  photo = await photoFile('faceapi_happy.jpg');
  photoAnswer = await service.predict(photo);
  expect(photoAnswer.status).toBe(200);
  expect(photoAnswer.body.faces).toHaveLength(1);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await service?.close();
});

function pool(): PoolInternals {
  return (service.app.detector as unknown as { pool: PoolInternals }).pool;
}

/**
 * Runs `onDetect` on the next detect message posted to the (single) detector worker; resolves once
 * it has been posted.
 */
function onNextDetect(
  onDetect: (worker: Worker, message: DetectMessage) => DetectMessage | null,
): Promise<void> {
  const { worker } = pool().slots[0];
  const post = worker.postMessage.bind(worker);
  return new Promise((resolve) => {
    worker.postMessage = (message: DetectMessage, transfer?: readonly ArrayBuffer[]) => {
      if (message.kind !== 'detect') return post(message, transfer);
      worker.postMessage = post;
      const replaced = onDetect(worker, message);
      // A crash: the worker starts dying as the image is handed to it (it cannot answer first).
      if (replaced === null) void worker.terminate();
      post(replaced ?? message, transfer);
      resolve();
    };
  });
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

/**
 * The failing photo request and, while its detection runs, every other photo (face detection on,
 * queued behind it on the same worker) in a shuffled order. The failing photo is sent first and
 * the others only once its image has reached the worker, so the fault hits the failing photo.
 */
async function photoAmongOthers(
  seed: number,
  faultPosted: Promise<void>,
): Promise<{ failing: Sent; others: { index: number; response: Sent }[] }> {
  const failing = service.predict(photo);
  await faultPosted;
  const rest = Promise.all(
    shuffledIndices(CROPS, 1, seed).map(async (index) => ({
      index,
      response: await service.predict(others[index]),
    })),
  );
  return { failing: await failing, others: await rest };
}

function expectInternalError(response: Sent): void {
  expect(response.status).toBe(500);
  expect(response.body.error.code).toBe('INTERNAL_ERROR');
  expect(response.body.error.message).toContain(response.headers['x-request-id']);
  expect(response.text).not.toMatch(/\n\s+at |\/tmp\/|node_modules|tensor|shape|worker/i);
}

function expectOwnAnswers(answers: { index: number; response: Sent }[]): void {
  expect(answers.map((o) => o.response.status)).toEqual(Array(CROPS).fill(200));
  for (const o of answers) expect(o.response.body.faces).toHaveLength(1);
  const mixedUp = answers.filter((o) => !key.isAnswerTo(o.index, o.response.body.faces[0].probabilities));
  expect(mixedUp.map((o) => o.index)).toEqual([]);
}

photoTest(
  'the detector throws for one image: that request gets 500, the others their own answers',
  async () => {
    // A detect message whose pixels do not match its size makes the worker's detection throw.
    const posted = onNextDetect((_worker, message) => ({ ...message, width: message.width + 1 }));
    const { failing, others: answers } = await photoAmongOthers(1, posted);
    expectInternalError(failing);
    expectOwnAnswers(answers);
    // Logged in full for operators, under the request id the client was given.
    const logged = logs.withMessage('request failed').at(-1);
    expect(logged?.reqId).toBe(failing.headers['x-request-id']);
    expectSameAsPhotoAnswer(await service.predict(photo));
  },
  TEST_TIMEOUT_MS,
);

photoTest(
  'the detector worker dies mid-detection: that request gets 500, the worker is replaced',
  async () => {
    const crashed = pool().slots[0].worker;
    const posted = onNextDetect(() => null);
    const { failing, others: answers } = await photoAmongOthers(2, posted);
    expectInternalError(failing);
    expectOwnAnswers(answers);
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
