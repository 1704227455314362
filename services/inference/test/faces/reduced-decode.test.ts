/**
 * The detector's copy is decoded straight at its reduced size (sharp's shrink-on-load): the faces
 * found on it are the faces found on a copy made from the fully decoded photo, boxes within 2% of
 * the image size. On the large JPEGs of ../shared/photos, where shrink-on-load matters; skipped,
 * with a message, when they are absent.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { probeImage } from '@fer/shared';
import { loadConfig } from '../../src/config';
import { BlazeFaceDetector } from '../../src/faces/blazeface-detector';
import type { BlazeFaceSettings } from '../../src/faces/detector-protocol';
import { detectionCopy } from '../../src/faces/face-detector';
import { detectionSize, toOriginal, type FaceBox, type Size } from '../../src/faces/face-boxes';
import { detectorSettings } from '../../src/plugins/app/detector';
import { HAVE_PHOTOS, PHOTOS_DIR } from '../helpers/images';

/** The bound: box edges within this fraction of the image's size. */
const BOX_TOLERANCE_OF_IMAGE = 0.02;
const TEST_TIMEOUT_MS = 60_000;
const LARGE_PHOTOS = ['deepface_couple.jpg', 'deepface_img57.jpg', 'deepface_img32.jpg', 'faceapi_bbt1.jpg'];

/** The same copy from the whole decoded photo: decode at full size, then resize the pixels. */
async function fullDecodeCopy(bytes: Buffer, original: Size, maxSide: number) {
  const size = detectionSize(original, maxSide);
  const { data, info } = await sharp(bytes).autoOrient().removeAlpha().toColourspace('srgb').raw().toBuffer({
    resolveWithObject: true,
  });
  expect({ width: info.width, height: info.height }).toEqual(original);
  const rgb = await sharp(data, { raw: info })
    .resize(size.width, size.height, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { rgb: new Uint8Array(rgb), size };
}

if (!HAVE_PHOTOS) {
  test.skip(`reduced decode: skipped, ${PHOTOS_DIR} is absent`, () => undefined);
  console.warn(`Skipping the reduced-decode test: ${PHOTOS_DIR} is absent.`);
} else {
  test.each(LARGE_PHOTOS)(
    '%s: the shrink-on-load copy finds the same faces as a full decode',
    async (name) => {
      const config = loadConfig({});
      const detector = await BlazeFaceDetector.load(detectorSettings(config) as BlazeFaceSettings);
      try {
        const bytes = await readFile(path.join(PHOTOS_DIR, name));
        const info = await probeImage(bytes);
        const original = { width: info.width, height: info.height };
        const faces = async (copy: { rgb: Uint8Array; size: Size }): Promise<FaceBox[]> =>
          toOriginal(await detector.detect(copy.rgb, copy.size), copy.size, original).sort(
            (a, b) => a.left - b.left,
          );
        const reduced = await faces(await detectionCopy(bytes, original, config.detector.maxSide));
        const full = await faces(await fullDecodeCopy(bytes, original, config.detector.maxSide));
        expect(reduced.length).toBeGreaterThan(0);
        expect(reduced).toHaveLength(full.length);
        reduced.forEach((face, i) => {
          expect(Math.abs(face.left - full[i].left)).toBeLessThanOrEqual(
            BOX_TOLERANCE_OF_IMAGE * original.width,
          );
          expect(Math.abs(face.top - full[i].top)).toBeLessThanOrEqual(
            BOX_TOLERANCE_OF_IMAGE * original.height,
          );
          expect(Math.abs(face.width - full[i].width)).toBeLessThanOrEqual(
            BOX_TOLERANCE_OF_IMAGE * original.width,
          );
          expect(Math.abs(face.height - full[i].height)).toBeLessThanOrEqual(
            BOX_TOLERANCE_OF_IMAGE * original.height,
          );
        });
      } finally {
        await detector.release();
      }
    },
    TEST_TIMEOUT_MS,
  );
}
