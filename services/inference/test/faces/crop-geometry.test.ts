/**
 * Crop geometry: with margin only it is @fer/shared's marginBox; offset and aspect move and shape
 * the rectangle; alignment turns it by the eye angle; the region read for a crop is exactly what
 * cropWithEdgePadding reads (clipped to the image), and the union holds every region.
 */
import { marginBox } from '@fer/shared';
import {
  eyeAngle,
  faceRect,
  marginGeometry,
  readRegion,
  rectBox,
  unionRegion,
} from '../../src/faces/crop-geometry';
import type { FaceBox } from '../../src/faces/face-boxes';

const TOLERANCE = 1e-9;
const face: FaceBox = { left: 40, top: 30, width: 20, height: 24, score: 0.9 };

describe('faceRect', () => {
  test('margin only: the square marginBox of @fer/shared', () => {
    const box = rectBox(faceRect(face, marginGeometry(0.1), false));
    const expected = marginBox(face, 0.1);
    for (const key of ['left', 'top', 'width', 'height'] as const) {
      expect(Math.abs(box[key] - expected[key])).toBeLessThan(TOLERANCE);
    }
  });

  test('offset_y moves the centre down by a fraction of the box height; aspect sets the width', () => {
    const rect = faceRect(face, { margin: 0, aspect: 0.8, offset_y: 0.25, align: false }, false);
    expect(rect).toEqual({ cx: 50, cy: 42 + 6, width: 24 * 0.8, height: 24, angle: 0 });
  });

  test('alignment turns the rectangle by the eye angle, and the offset along the turned vertical', () => {
    const tilted: FaceBox = {
      ...face,
      landmarks: { right_eye: { x: 45, y: 35 }, left_eye: { x: 55, y: 45 } },
    };
    expect(eyeAngle(tilted.landmarks)).toBeCloseTo(Math.PI / 4, 12);
    const rect = faceRect(tilted, { margin: 0, aspect: 1, offset_y: 0.5, align: true }, true);
    expect(rect.angle).toBeCloseTo(Math.PI / 4, 12);
    // Down the face's own axis, turned 45 degrees: 12 px split equally left and down.
    expect(rect.cx).toBeCloseTo(50 - 12 * Math.SQRT1_2, 9);
    expect(rect.cy).toBeCloseTo(42 + 12 * Math.SQRT1_2, 9);
    // Without the parameter, or without eyes, nothing turns.
    expect(faceRect(tilted, { margin: 0, aspect: 1, offset_y: 0, align: true }, false).angle).toBe(0);
    expect(eyeAngle(undefined)).toBe(0);
  });
});

describe('readRegion', () => {
  test('an unturned crop reads the rounded box, clipped to the image', () => {
    expect(
      readRegion({ cx: 50, cy: 50, width: 120, height: 120, angle: 0 }, { width: 80, height: 200 }),
    ).toEqual({
      left: 0,
      top: 0,
      width: 80,
      height: 110,
    });
    expect(
      readRegion({ cx: 10.6, cy: 10.4, width: 5, height: 5, angle: 0 }, { width: 80, height: 80 }),
    ).toEqual({
      left: 8,
      top: 8,
      width: 5,
      height: 5,
    });
  });

  test('a turned crop reads the bounding box of its corners plus one pixel', () => {
    const region = readRegion(
      { cx: 50, cy: 50, width: 20, height: 20, angle: Math.PI / 4 },
      { width: 100, height: 100 },
    );
    const half = 10 * Math.SQRT2;
    expect(region).toEqual({
      left: Math.floor(50 - half) - 1,
      top: Math.floor(50 - half) - 1,
      width: Math.ceil(50 + half) + 1 - (Math.floor(50 - half) - 1),
      height: Math.ceil(50 + half) + 1 - (Math.floor(50 - half) - 1),
    });
  });

  test('a crop entirely outside the image reads nothing; the union holds every region', () => {
    expect(
      readRegion({ cx: -50, cy: 5, width: 10, height: 10, angle: 0 }, { width: 10, height: 10 }),
    ).toBeNull();
    expect(
      unionRegion([
        { left: 0, top: 0, width: 2, height: 2 },
        { left: 5, top: 1, width: 1, height: 4 },
      ]),
    ).toEqual({ left: 0, top: 0, width: 6, height: 5 });
    expect(unionRegion([])).toBeNull();
  });
});
