/**
 * The face-detector worker pool on its own (BlazeFace in ONNX Runtime, the default): different
 * photos in flight at once each get their own faces (answers known beforehand, all different, so a
 * swapped result fails), work beyond the queue is refused, a failing detection fails only its own
 * image, an aborted wait leaves the queue; and face-api's TF.js pool (DETECTOR=tiny) does not leak
 * tensors across detections.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../../src/config';
import { DetectorPool, type DetectionResult } from '../../src/faces/detector-pool';
import type { RawDetection } from '../../src/faces/detector-protocol';
import { OverloadedError } from '../../src/errors';
import { detectorSettings, FACE_API_MODEL_DIR } from '../../src/plugins/app/detector';
import { shuffledIndices } from '../../tools/answer-key';
import { HAVE_PHOTOS, PHOTOS_DIR } from '../helpers/images';

const START_TIMEOUT_MS = 120_000;
const CONCURRENCY_TIMEOUT_MS = 120_000;
/** Rounds of every photo sent at once, in shuffled orders. */
const ROUNDS = 3;
const DETECTIONS = 6;
/** The same image on any worker gives the same boxes to within float noise (pixels). */
const SAME_BOX_TOLERANCE = 1e-3;
/** Two small detections, on a machine that may be busy. */
const BUFFER_TEST_TIMEOUT_MS = 30_000;
const silent = { info: () => undefined, error: () => undefined };
/** Photos with different numbers of faces in different places (SOURCES.txt). */
const PHOTOS = [
  'faceapi_happy.jpg',
  'faceapi_sad.jpg',
  'faceapi_bbt1.jpg',
  'faceapi_bbt3.jpg',
  'deepface_couple.jpg',
  'deepface_img12.jpg',
  'curie_photo.jpg',
  'faceapi_white.png',
];

/** The upright RGB copy the service would give the default detector. */
async function rgb(bytes: Buffer, maxSide = loadConfig({}).detector.maxSide) {
  const { data, info } = await sharp(bytes)
    .autoOrient()
    .resize(maxSide, maxSide, { fit: 'inside' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { rgb: new Uint8Array(data), width: info.width, height: info.height };
}

async function blankImage() {
  return rgb(
    await sharp({ create: { width: 320, height: 240, channels: 3, background: '#ccbbaa' } })
      .png()
      .toBuffer(),
  );
}

function sameFaces(a: readonly RawDetection[], b: readonly RawDetection[]): boolean {
  return (
    a.length === b.length &&
    a.every((face, i) =>
      (['left', 'top', 'width', 'height'] as const).every(
        (key) => Math.abs(face[key] - b[i][key]) <= SAME_BOX_TOLERANCE,
      ),
    )
  );
}

describe('DetectorPool (BlazeFace)', () => {
  let pool: DetectorPool;
  beforeAll(async () => {
    pool = await DetectorPool.start(detectorSettings(loadConfig({})), 2, { maxQueue: 4, logger: silent });
  }, START_TIMEOUT_MS);
  afterAll(() => pool?.close());

  (HAVE_PHOTOS ? test : test.skip)(
    `photos in flight at once each get their own faces${HAVE_PHOTOS ? '' : ` (skipped: ${PHOTOS_DIR} is absent)`}`,
    async () => {
      expect(pool.size).toBe(2);
      const images = await Promise.all(
        PHOTOS.map(async (name) => rgb(await readFile(path.join(PHOTOS_DIR, name)))),
      );
      const signal = new AbortController().signal;
      // The key: each photo alone, one at a time.
      const key: RawDetection[][] = [];
      for (const image of images)
        key.push((await pool.detect({ ...image, rgb: image.rgb.slice() }, signal)).detections);
      // Every answer differs from every other, so a swap between any two would be seen.
      for (let i = 0; i < key.length; i++) {
        for (let j = i + 1; j < key.length; j++) expect(sameFaces(key[i], key[j])).toBe(false);
      }
      expect(key.map((faces) => faces.length)).toEqual([1, 1, 4, 5, 2, 1, 1, 0]);
      for (let round = 0; round < ROUNDS; round++) {
        // A queue of 4 and 2 workers: send in waves of 6 so none is refused, shuffled each round.
        const order = shuffledIndices(images.length, 1, round + 1);
        const results: { index: number; result: DetectionResult }[] = [];
        for (let start = 0; start < order.length; start += 6) {
          const wave = order.slice(start, start + 6);
          results.push(
            ...(await Promise.all(
              wave.map(async (index) => ({
                index,
                result: await pool.detect({ ...images[index], rgb: images[index].rgb.slice() }, signal),
              })),
            )),
          );
        }
        const wrong = results.filter(({ index, result }) => !sameFaces(result.detections, key[index]));
        expect(wrong.map((w) => PHOTOS[w.index])).toEqual([]);
      }
    },
    CONCURRENCY_TIMEOUT_MS,
  );

  test(
    "takes sharp's own pixel Buffer and a pooled one, leaving the pool's other Buffers intact",
    async () => {
      const signal = new AbortController().signal;
      // As the service passes them: sharp's output, which Node >= 22 refuses to transfer.
      const { data, info } = await sharp({
        create: { width: 64, height: 48, channels: 3, background: '#ccbbaa' },
      })
        .raw()
        .toBuffer({ resolveWithObject: true });
      await expect(
        pool.detect({ rgb: data, width: info.width, height: info.height }, signal),
      ).resolves.toMatchObject({
        detections: [],
      });
      // Small Buffers share the memory of Buffer's pool: moving one to a worker would empty the others.
      const neighbour = Buffer.from('still here');
      const side = 32;
      const pooled = Buffer.allocUnsafe(side * side * 3).fill(0x80);
      await pool.detect({ rgb: pooled, width: side, height: side }, signal);
      expect(neighbour.toString()).toBe('still here');
      expect(pooled.every((v) => v === 0x80)).toBe(true);
    },
    BUFFER_TEST_TIMEOUT_MS,
  );

  test('refuses images beyond its queue with 503 OVERLOADED', async () => {
    const signal = new AbortController().signal;
    const image = await blankImage();
    const attempts = Array.from({ length: 12 }, () =>
      pool.detect({ ...image, rgb: image.rgb.slice() }, signal).then(
        () => 'ok',
        (error: unknown) => (error instanceof OverloadedError ? 'overloaded' : String(error)),
      ),
    );
    const outcomes = await Promise.all(attempts);
    expect(outcomes.filter((o) => o === 'overloaded').length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o === 'ok').length).toBeGreaterThanOrEqual(4);
    expect(outcomes.every((o) => o === 'ok' || o === 'overloaded')).toBe(true);
  });

  test('a detection that fails fails only its own request', async () => {
    const signal = new AbortController().signal;
    const image = await blankImage();
    await expect(pool.detect({ ...image, width: image.width + 1 }, signal)).rejects.toThrow(
      /face detection failed/,
    );
    expect((await pool.detect(await blankImage(), signal)).ms).toBeGreaterThan(0);
  });

  test('an aborted request leaves the queue at once', async () => {
    const controller = new AbortController();
    const image = await blankImage();
    const busy = [
      pool.detect({ ...image, rgb: image.rgb.slice() }, new AbortController().signal),
      pool.detect({ ...image, rgb: image.rgb.slice() }, new AbortController().signal),
    ];
    const waiting = pool.detect({ ...image, rgb: image.rgb.slice() }, controller.signal);
    expect(pool.queueDepth).toBe(1);
    controller.abort(new Error('client gone'));
    await expect(waiting).rejects.toThrow('client gone');
    expect(pool.queueDepth).toBe(0);
    await Promise.all(busy);
  });

  test('ONNX Runtime workers hold no TF.js tensors', () => {
    expect(pool.heldTensors).toBe(0);
    expect(pool.backend).toBe('onnxruntime-cpu');
  });
});

describe('DetectorPool (TF.js tiny, DETECTOR=tiny)', () => {
  let pool: DetectorPool;
  beforeAll(async () => {
    pool = await DetectorPool.start(
      { kind: 'tiny', inputSize: 416, minScore: 0.3, modelDir: FACE_API_MODEL_DIR },
      1,
      { maxQueue: 8, logger: silent },
    );
  }, START_TIMEOUT_MS);
  afterAll(() => pool?.close());

  test('detects faces without leaking tensors', async () => {
    const before = await pool.tensorCounts();
    const signal = new AbortController().signal;
    const face = HAVE_PHOTOS
      ? await rgb(await readFile(path.join(PHOTOS_DIR, 'faceapi_happy.jpg')), 640)
      : await blankImage();
    const results = await Promise.all(
      Array.from({ length: DETECTIONS }, () => pool.detect({ ...face, rgb: face.rgb.slice() }, signal)),
    );
    if (HAVE_PHOTOS) for (const result of results) expect(result.detections).toHaveLength(1);
    expect(await pool.tensorCounts()).toEqual(before);
    expect(pool.heldTensors).toBe(before.reduce((a, b) => a + b, 0));
  });
});
