/**
 * The views a square-input detector sees: the whole image padded to a square, overlapping tiles,
 * box-filter sampling into the [-1, 1] input with grey padding, and mapping back to image pixels.
 */
import { fromView, tileViews, viewInput, wholeView } from '../../src/faces/detector-views';

const TOLERANCE = 1e-6;

describe('views', () => {
  test('the whole image is one square in the top-left corner', () => {
    expect(wholeView({ width: 640, height: 480 })).toEqual({ left: 0, top: 0, side: 640 });
  });

  test('tiles cover the image, overlap, and end at its edges', () => {
    const tiles = tileViews({ width: 512, height: 384 }, 256, 0.25);
    expect(tiles.map((t) => t.left)).toEqual([0, 128, 256, 0, 128, 256]);
    expect(tiles.map((t) => t.top)).toEqual([0, 0, 0, 128, 128, 128]);
    expect(tileViews({ width: 256, height: 200 }, 256, 0.25)).toEqual([]);
  });
});

describe('viewInput', () => {
  test('a 2x downscale averages 2x2 blocks; outside the image is grey (0)', () => {
    // 4x2 image, view of side 4 into a 2x2 input: the top row averages blocks, the bottom row is padding.
    const rgb = new Uint8Array(4 * 2 * 3);
    for (let x = 0; x < 4; x++)
      for (let y = 0; y < 2; y++) rgb.fill(x < 2 ? 0 : 255, (y * 4 + x) * 3, (y * 4 + x) * 3 + 3);
    const input = viewInput(rgb, { width: 4, height: 2 }, wholeView({ width: 4, height: 2 }), 2);
    expect(Array.from(input.slice(0, 3))).toEqual([-1, -1, -1]);
    expect(Array.from(input.slice(3, 6))).toEqual([1, 1, 1]);
    for (const v of input.slice(6)) expect(Math.abs(v)).toBeLessThan(TOLERANCE);
  });

  test('at scale 1 it is the pixels themselves, scaled to [-1, 1]', () => {
    const rgb = Uint8Array.of(0, 127.5, 255, 51, 102, 204);
    const input = viewInput(rgb, { width: 2, height: 1 }, { left: 0, top: 0, side: 1 }, 1);
    expect(input[0]).toBeCloseTo(-1, 6);
    expect(input[2]).toBeCloseTo(1, 6);
  });

  test('refuses pixels that do not match the size', () => {
    expect(() =>
      viewInput(new Uint8Array(5), { width: 2, height: 1 }, { left: 0, top: 0, side: 2 }, 2),
    ).toThrow(RangeError);
  });
});

describe('fromView', () => {
  test('scales by side / input size and shifts by the view origin, key points too', () => {
    const mapped = fromView(
      { left: 10, top: 20, width: 30, height: 40, score: 0.8, keypoints: [{ x: 1, y: 2 }] },
      { left: 256, top: 128, side: 512 },
      256,
    );
    expect(mapped).toEqual({
      left: 276,
      top: 168,
      width: 60,
      height: 80,
      score: 0.8,
      keypoints: [{ x: 258, y: 132 }],
    });
  });
});
