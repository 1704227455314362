/**
 * The face-detector worker pool on its own: it finds a face in a real photo, does not leak TF.js
 * tensors across detections, runs detections on several workers at once, and refuses work beyond
 * its queue.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { DetectorPool } from '../../src/faces/detector-pool';
import { FACE_API_MODEL_DIR } from '../../src/plugins/app/detector';
import { OverloadedError } from '../../src/errors';
import { HAVE_PHOTOS, PHOTOS_DIR } from '../helpers/images';

const START_TIMEOUT_MS = 120_000;
const DETECTIONS = 6;
/** Two small detections, on a machine that may be busy. */
const BUFFER_TEST_TIMEOUT_MS = 30_000;
const silent = { info: () => undefined, error: () => undefined };

async function rgb(bytes: Buffer) {
  const { data, info } = await sharp(bytes)
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { rgb: new Uint8Array(data), width: info.width, height: info.height };
}

async function faceImage() {
  if (HAVE_PHOTOS) return rgb(await readFile(path.join(PHOTOS_DIR, 'faceapi_happy.jpg')));
  return rgb(
    await sharp({ create: { width: 320, height: 240, channels: 3, background: '#ccbbaa' } })
      .png()
      .toBuffer(),
  );
}

describe('DetectorPool', () => {
  let pool: DetectorPool;
  beforeAll(async () => {
    pool = await DetectorPool.start(
      { kind: 'tiny', inputSize: 416, minScore: 0.3, modelDir: FACE_API_MODEL_DIR },
      2,
      { maxQueue: 4, logger: silent },
    );
  }, START_TIMEOUT_MS);
  afterAll(() => pool?.close());

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

  test('detects faces without leaking tensors', async () => {
    expect(pool.size).toBe(2);
    const before = await pool.tensorCounts();
    const signal = new AbortController().signal;
    const results = await Promise.all(
      Array.from({ length: DETECTIONS }, async () => pool.detect(await faceImage(), signal)),
    );
    if (HAVE_PHOTOS) for (const result of results) expect(result.detections).toHaveLength(1);
    for (const result of results) expect(result.ms).toBeGreaterThan(0);
    expect(await pool.tensorCounts()).toEqual(before);
    // What each worker reports after its detections (the soak benchmark's gauge) says the same.
    expect(pool.heldTensors).toBe(before.reduce((a, b) => a + b, 0));
  });

  test('refuses images beyond its queue with 503 OVERLOADED', async () => {
    const signal = new AbortController().signal;
    const image = await faceImage();
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
    const image = await faceImage();
    await expect(pool.detect({ ...image, width: image.width + 1 }, signal)).rejects.toThrow(
      /face detection failed/,
    );
    expect((await pool.detect(await faceImage(), signal)).ms).toBeGreaterThan(0);
  });

  test('an aborted request leaves the queue at once', async () => {
    const controller = new AbortController();
    const image = await faceImage();
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
});
