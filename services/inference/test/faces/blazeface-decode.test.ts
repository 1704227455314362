/**
 * BlazeFace output decoding on hand-computed anchors and offsets: anchor centres of a grid, the
 * score threshold on logits, boxes and key points in input pixels, and the layers' sizes.
 */
import {
  anchorCentres,
  BLAZEFACE_KEYPOINTS,
  BLAZEFACE_LAYERS,
  decodeLayer,
  REGRESSOR_VALUES,
  sigmoid,
} from '../../src/faces/blazeface-decode';

const TOLERANCE = 1e-5;

describe('anchors', () => {
  test('a 2x2 grid with one anchor per cell has centres at the quarter points, row by row', () => {
    expect(Array.from(anchorCentres({ cells: 2, anchorsPerCell: 1 }))).toEqual([
      0.25, 0.25, 0.75, 0.25, 0.25, 0.75, 0.75, 0.75,
    ]);
  });

  test('anchors of one cell share its centre; BlazeFace has 512 + 384 = 896 anchors', () => {
    const centres = anchorCentres({ cells: 16, anchorsPerCell: 2 });
    expect(centres.length / 2).toBe(512);
    expect(centres.slice(0, 4)).toEqual(Float32Array.of(1 / 32, 1 / 32, 1 / 32, 1 / 32));
    expect(
      BLAZEFACE_LAYERS.reduce((sum, layer) => sum + layer.cells * layer.cells * layer.anchorsPerCell, 0),
    ).toBe(896);
  });
});

describe('decodeLayer', () => {
  const layer = { cells: 2, anchorsPerCell: 1 };
  const inputSize = 128;

  function outputs(hits: Record<number, { logit: number; values: number[] }>) {
    const logits = new Float32Array(4).fill(-10);
    const regressors = new Float32Array(4 * REGRESSOR_VALUES);
    for (const [index, hit] of Object.entries(hits)) {
      logits[Number(index)] = hit.logit;
      regressors.set(hit.values, Number(index) * REGRESSOR_VALUES);
    }
    return { logits, regressors };
  }

  test('a box and its key points are offsets from the anchor centre, in input pixels', () => {
    // Anchor 3 is the bottom-right cell: centre (96, 96) in a 128-px input.
    const values = [4, -8, 40, 50, ...BLAZEFACE_KEYPOINTS.flatMap((_, k) => [k, -k])];
    const { logits, regressors } = outputs({ 3: { logit: 2, values } });
    const [face, ...rest] = decodeLayer(logits, regressors, layer, inputSize, 0.5);
    expect(rest).toEqual([]);
    expect(face.left).toBeCloseTo(96 + 4 - 20, 5);
    expect(face.top).toBeCloseTo(96 - 8 - 25, 5);
    expect(face.width).toBe(40);
    expect(face.height).toBe(50);
    expect(Math.abs(face.score - 1 / (1 + Math.exp(-2)))).toBeLessThan(TOLERANCE);
    expect(face.keypoints).toEqual(BLAZEFACE_KEYPOINTS.map((_, k) => ({ x: 96 + k, y: 96 - k })));
  });

  test('keeps exactly the anchors scoring at least minScore', () => {
    const box = [0, 0, 10, 10, ...new Array(12).fill(0)];
    const { logits, regressors } = outputs({
      0: { logit: 0, values: box }, // p = 0.5
      1: { logit: -0.01, values: box }, // p just below 0.5
      2: { logit: 3, values: box },
    });
    const found = decodeLayer(logits, regressors, layer, inputSize, 0.5);
    expect(found.map((f) => f.score)).toEqual([0.5, sigmoid(3)]);
    expect(found.map((f) => f.left)).toEqual([32 - 5, 32 - 5]);
  });

  test('drops boxes without area and refuses outputs of the wrong size', () => {
    const { logits, regressors } = outputs({
      0: { logit: 5, values: [0, 0, 0, 10, ...new Array(12).fill(0)] },
    });
    expect(decodeLayer(logits, regressors, layer, inputSize, 0.5)).toEqual([]);
    expect(() => decodeLayer(new Float32Array(3), regressors, layer, inputSize, 0.5)).toThrow(RangeError);
  });

  test('sigmoid is clipped, never Infinity or NaN', () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(1e6)).toBeCloseTo(1, 12);
    expect(sigmoid(-1e6)).toBeGreaterThanOrEqual(0);
  });
});
