/**
 * The crops the service cuts from the original photo around the faces only (one region decode for
 * all faces) are exactly @fer/shared's preprocessing of the same regions done by hand on the whole
 * decoded image: EXIF-rotated photos, faces cut by the image edge, several faces, every fitted
 * geometry shape; and a turned (aligned) crop is the same face, levelled.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { defaultPreprocessSpec, preprocessImage, probeImage } from '@fer/shared';
import { faceRect, marginGeometry, rectBox, type CropGeometry } from '../../src/faces/crop-geometry';
import type { FaceBox } from '../../src/faces/face-boxes';
import { faceInputs } from '../../src/predict/face-crops';
import { HAVE_PHOTOS, PHOTOS_DIR } from '../helpers/images';

/** The issue's bound for "the same input as training's preprocessing". */
const SAME_INPUT_TOLERANCE = 1e-6;
const spec = defaultPreprocessSpec(64);

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** A non-symmetric RGB picture stored with an EXIF orientation. */
async function photo(width: number, height: number, orientation: number): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const x = i % width;
    const y = Math.floor(i / width);
    data[i * 3] = (x * 5 + y * 2) % 256;
    data[i * 3 + 1] = (x * y) % 253;
    data[i * 3 + 2] = (y * 7) % 256;
  }
  return sharp(data, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 92 })
    .withMetadata({ orientation })
    .toBuffer();
}

async function expectSameAsHandPreprocessing(
  bytes: Buffer,
  faces: FaceBox[],
  geometry: CropGeometry,
): Promise<void> {
  const info = await probeImage(bytes);
  const { inputs } = await faceInputs(bytes, info, faces, spec, geometry, false);
  expect(inputs).toHaveLength(faces.length);
  for (const [i, face] of faces.entries()) {
    const byHand = await preprocessImage(bytes, spec, rectBox(faceRect(face, geometry, false)));
    expect(maxAbsDiff(inputs[i], byHand)).toBeLessThanOrEqual(SAME_INPUT_TOLERANCE);
  }
}

const FACES: FaceBox[] = [
  { left: 30.4, top: 40.2, width: 60, height: 70, score: 0.9 },
  // Cut by the left and top edges: the crop repeats edge pixels there.
  { left: -12, top: -5.5, width: 50, height: 48, score: 0.8 },
  // Near the bottom-right corner.
  { left: 150, top: 180, width: 45, height: 45, score: 0.7 },
];

describe('faceInputs', () => {
  test.each([1, 3, 6, 8])(
    'equals @fer/shared preprocessing of the same regions (EXIF orientation %i)',
    async (orientation) => {
      const bytes = await photo(210, 240, orientation);
      await expectSameAsHandPreprocessing(bytes, FACES, marginGeometry(0.1));
    },
  );

  test('equals it for other geometries: negative margin, offset, non-square aspect', async () => {
    const bytes = await photo(200, 260, 1);
    for (const geometry of [
      { margin: -0.05, aspect: 1, offset_y: 0.1, align: false },
      { margin: 0.2, aspect: 0.85, offset_y: -0.08, align: false },
    ]) {
      await expectSameAsHandPreprocessing(bytes, FACES, geometry);
    }
  });

  test('a face whose eyes are level is cut the same with or without alignment', async () => {
    const bytes = await photo(200, 200, 1);
    const info = await probeImage(bytes);
    const level: FaceBox = {
      ...FACES[0],
      landmarks: { right_eye: { x: 45, y: 60 }, left_eye: { x: 75, y: 60 } },
    };
    const plain = await faceInputs(bytes, info, [level], spec, marginGeometry(0.1), false);
    const aligned = await faceInputs(bytes, info, [level], spec, marginGeometry(0.1), true);
    expect(maxAbsDiff(plain.inputs[0], aligned.inputs[0])).toBe(0);
  });

  test('an aligned crop of a turned face matches the upright face', async () => {
    // A face-like pattern, and the same picture turned 20 degrees about the face's centre.
    const side = 160;
    const svg = (angle: number) =>
      Buffer.from(
        `<svg xmlns="http://www.w3.org/2000/svg" width="${side}" height="${side}"><rect width="100%" height="100%" fill="#777"/>` +
          `<g transform="rotate(${angle} 80 80)"><ellipse cx="80" cy="80" rx="40" ry="50" fill="#ddd"/>` +
          `<circle cx="64" cy="68" r="6" fill="#111"/><circle cx="96" cy="68" r="6" fill="#111"/>` +
          `<rect x="62" y="100" width="36" height="6" fill="#322"/></g></svg>`,
      );
    const upright = await sharp(svg(0)).png().toBuffer();
    const turned = await sharp(svg(20)).png().toBuffer();
    const turn = (x: number, y: number) => {
      const a = (20 * Math.PI) / 180;
      return {
        x: 80 + (x - 80) * Math.cos(a) - (y - 80) * Math.sin(a),
        y: 80 + (x - 80) * Math.sin(a) + (y - 80) * Math.cos(a),
      };
    };
    const box = { left: 40, top: 30, width: 80, height: 100, score: 1 };
    const uprightFace: FaceBox = {
      ...box,
      landmarks: { right_eye: { x: 64, y: 68 }, left_eye: { x: 96, y: 68 } },
    };
    const turnedFace: FaceBox = { ...box, landmarks: { right_eye: turn(64, 68), left_eye: turn(96, 68) } };
    const geometry = marginGeometry(0);
    const reference = (
      await faceInputs(upright, await probeImage(upright), [uprightFace], spec, geometry, true)
    ).inputs[0];
    const aligned = (await faceInputs(turned, await probeImage(turned), [turnedFace], spec, geometry, true))
      .inputs[0];
    const unaligned = (
      await faceInputs(turned, await probeImage(turned), [turnedFace], spec, geometry, false)
    ).inputs[0];
    const meanAbs = (a: Float32Array) =>
      a.reduce((sum, v, i) => sum + Math.abs(v - reference[i]), 0) / a.length;
    // Levelled, the crop is close to the upright face's; unlevelled it is not.
    expect(meanAbs(aligned)).toBeLessThan(meanAbs(unaligned) / 3);
  });

  (HAVE_PHOTOS ? test : test.skip)(
    `equals @fer/shared preprocessing on a real EXIF-rotated photo${HAVE_PHOTOS ? '' : ` (skipped: ${PHOTOS_DIR} is absent)`}`,
    async () => {
      const bytes = await readFile(path.join(PHOTOS_DIR, 'curie_photo.6.embedded.jpg'));
      // Marie Curie's XMP face region (SOURCES.txt): centre 0.37, 0.31, size 0.11 x 0.20 of 840x700.
      const marie = {
        left: 840 * (0.37 - 0.055),
        top: 700 * (0.31 - 0.1),
        width: 840 * 0.11,
        height: 700 * 0.2,
        score: 1,
      };
      await expectSameAsHandPreprocessing(bytes, [marie], marginGeometry(0.1));
    },
  );

  test('no faces, no inputs (and no decode)', async () => {
    const bytes = await photo(50, 50, 1);
    expect(
      (await faceInputs(bytes, await probeImage(bytes), [], spec, marginGeometry(0.1), false)).inputs,
    ).toEqual([]);
  });
});
