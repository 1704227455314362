/**
 * Non-maximum suppression on hand-computed boxes: IoU and containment, the score-weighted blend of
 * a cluster (MediaPipe's weighted suppression), separate faces kept, and nested boxes (a face box
 * inside a head box, either one scoring higher) reduced to one.
 */
import type { FaceCandidate } from '../../src/faces/blazeface-decode';
import { iou, overlapOfSmaller, suppressOverlaps } from '../../src/faces/suppress-overlaps';

const TOLERANCE = 1e-9;
const OPTIONS = { iou: 0.3, contained: 0.7 };

function face(left: number, top: number, side: number, score: number, keypointX = left): FaceCandidate {
  return { left, top, width: side, height: side, score, keypoints: [{ x: keypointX, y: top }] };
}

describe('overlap measures', () => {
  test('iou of two 2x2 squares shifted by 1 is 2 / 6', () => {
    const a = { left: 0, top: 0, width: 2, height: 2 };
    expect(iou(a, { left: 1, top: 0, width: 2, height: 2 })).toBeCloseTo(1 / 3, 12);
    expect(iou(a, { left: 5, top: 5, width: 2, height: 2 })).toBe(0);
    expect(iou(a, { left: 0, top: 0, width: 0, height: 0 })).toBe(0);
  });

  test('overlapOfSmaller is 1 for a box inside another, whichever comes first', () => {
    const outer = { left: 0, top: 0, width: 10, height: 10 };
    const inner = { left: 2, top: 2, width: 4, height: 4 };
    expect(overlapOfSmaller(outer, inner)).toBe(1);
    expect(overlapOfSmaller(inner, outer)).toBe(1);
    expect(overlapOfSmaller(outer, { left: 8, top: 0, width: 4, height: 4 })).toBeCloseTo(0.5, 12);
  });
});

describe('suppressOverlaps', () => {
  test('a cluster becomes the score-weighted mean of its boxes and key points, with the best score', () => {
    // IoU of the two: 90 / 110 > 0.3. Weights 0.9 and 0.3.
    const [merged, ...rest] = suppressOverlaps([face(1, 0, 10, 0.3, 20), face(0, 0, 10, 0.9, 10)], OPTIONS);
    expect(rest).toEqual([]);
    expect(merged.score).toBe(0.9);
    expect(Math.abs(merged.left - (0 * 0.9 + 1 * 0.3) / 1.2)).toBeLessThan(TOLERANCE);
    expect(Math.abs(merged.keypoints[0].x - (10 * 0.9 + 20 * 0.3) / 1.2)).toBeLessThan(TOLERANCE);
    expect(merged.width).toBeCloseTo(10, 12);
  });

  test('separate faces are all kept, highest score first', () => {
    const kept = suppressOverlaps(
      [face(0, 0, 10, 0.6), face(50, 0, 10, 0.9), face(100, 0, 12, 0.7)],
      OPTIONS,
    );
    expect(kept.map((k) => k.score)).toEqual([0.9, 0.7, 0.6]);
  });

  test('a box inside a higher-scoring one is dropped although their IoU is low (nested boxes)', () => {
    // Inner 4x4 in outer 10x10: IoU 0.16 < 0.3, but all of the inner box is inside.
    expect(suppressOverlaps([face(0, 0, 10, 0.9), face(3, 3, 4, 0.8)], OPTIONS)).toHaveLength(1);
    // The other way round: the small box scores higher; the big one around it goes.
    const kept = suppressOverlaps([face(0, 0, 10, 0.7), face(3, 3, 4, 0.95)], OPTIONS);
    expect(kept).toHaveLength(1);
    expect(kept[0].width).toBe(4);
  });

  test('two faces that only touch (a head partly behind another) are both kept', () => {
    // Overlap 2x10 = 20, 20% of the smaller box.
    expect(suppressOverlaps([face(0, 0, 10, 0.9), face(8, 0, 10, 0.8)], OPTIONS)).toHaveLength(2);
  });

  test('no candidates, no faces', () => {
    expect(suppressOverlaps([], OPTIONS)).toEqual([]);
  });
});
