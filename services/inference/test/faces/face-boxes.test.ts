import { marginBox } from '@fer/shared';
import {
  detectionSize,
  reportedBox,
  selectFaces,
  toOriginal,
  type FaceBox,
} from '../../src/faces/face-boxes';

/** Pixel rounding tolerance for mapped coordinates. */
const PIXEL_TOLERANCE = 1e-9;

describe('detectionSize', () => {
  test('downscales the longest side to maxSide and keeps the aspect ratio', () => {
    expect(detectionSize({ width: 2280, height: 1588 }, 640)).toEqual({ width: 640, height: 446 });
    expect(detectionSize({ width: 1000, height: 1500 }, 640)).toEqual({ width: 427, height: 640 });
  });

  test('never enlarges', () => {
    expect(detectionSize({ width: 300, height: 250 }, 640)).toEqual({ width: 300, height: 250 });
  });
});

describe('toOriginal', () => {
  test('scales boxes back to the original size', () => {
    const [box] = toOriginal(
      [{ left: 10, top: 20, width: 30, height: 40, score: 0.9 }],
      { width: 640, height: 446 },
      { width: 2280, height: 1588 },
    );
    expect(box.left).toBeCloseTo(10 * (2280 / 640), 9);
    expect(box.top).toBeCloseTo(20 * (1588 / 446), 9);
    expect(Math.abs(box.width - 30 * (2280 / 640))).toBeLessThan(PIXEL_TOLERANCE);
    expect(box.score).toBe(0.9);
  });

  test('keeps boxes that cross the border unclipped and drops boxes outside the image', () => {
    const boxes = toOriginal(
      [
        { left: -5, top: 0, width: 20, height: 20, score: 0.5 },
        { left: 200, top: 0, width: 20, height: 20, score: 0.5 },
      ],
      { width: 100, height: 100 },
      { width: 100, height: 100 },
    );
    expect(boxes).toEqual([{ left: -5, top: 0, width: 20, height: 20, score: 0.5 }]);
  });
});

describe('reportedBox', () => {
  test('clips to the image and rounds to whole pixels', () => {
    expect(
      reportedBox({ left: -3.2, top: 2.6, width: 10.5, height: 3 }, { width: 100, height: 100 }),
    ).toEqual({
      left: 0,
      top: 3,
      width: 7,
      height: 3,
    });
    expect(reportedBox({ left: 90, top: 90, width: 30, height: 30 }, { width: 100, height: 100 })).toEqual({
      left: 90,
      top: 90,
      width: 10,
      height: 10,
    });
  });
});

describe('selectFaces', () => {
  const face = (side: number, score = 0.9): FaceBox => ({
    left: 0,
    top: 0,
    width: side,
    height: side,
    score,
  });

  test('sorts by size, largest first, and caps the count', () => {
    const faces = [face(10), face(30), face(20)];
    expect(selectFaces(faces, 'all', 10).map((f) => f.width)).toEqual([30, 20, 10]);
    expect(selectFaces(faces, 'all', 2).map((f) => f.width)).toEqual([30, 20]);
    expect(selectFaces(faces, 'largest', 10).map((f) => f.width)).toEqual([30]);
    expect(selectFaces([], 'largest', 10)).toEqual([]);
  });

  test('the crop around a selected face is the square margin box of @fer/shared', () => {
    const [largest] = selectFaces([face(20), face(40)], 'largest', 5);
    const crop = marginBox(largest, 0.1);
    expect(crop.width).toBeCloseTo(48, 9);
    expect(crop.height).toBeCloseTo(48, 9);
  });
});
