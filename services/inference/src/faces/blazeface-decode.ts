/**
 * Decoding MediaPipe BlazeFace's raw outputs into face candidates: anchor centres of its two grids,
 * score logits to probabilities, and box and key-point offsets to input pixels. Pure functions over
 * typed arrays, so the worker's ONNX session is the only impure part of detection (see
 * detectors/blazeface/SOURCE.md for the model's interface).
 */

/** A point in pixels. */
export interface Point {
  x: number;
  y: number;
}

/** A face the network proposes, in the pixel coordinates of the network input. */
export interface FaceCandidate {
  left: number;
  top: number;
  width: number;
  height: number;
  score: number;
  /** In the order of BLAZEFACE_KEYPOINTS. */
  keypoints: Point[];
}

/** One grid of anchors: `cells` x `cells` cells with `anchorsPerCell` anchors each. */
export interface AnchorLayer {
  cells: number;
  anchorsPerCell: number;
}

/**
 * BlazeFace's anchors (both the 128-px "front" and the 256-px "back" model): a 16x16 grid with 2
 * anchors per cell, then an 8x8 grid with 6 (896 in all). Anchors are unit-sized, so a box's size
 * is the regressed size itself.
 */
export const BLAZEFACE_LAYERS: readonly AnchorLayer[] = [
  { cells: 16, anchorsPerCell: 2 },
  { cells: 8, anchorsPerCell: 6 },
];

/**
 * The six key points, in output order. "Right" and "left" are the person's: for a face looking at
 * the camera the right eye is on the image's left.
 */
export const BLAZEFACE_KEYPOINTS = [
  'right_eye',
  'left_eye',
  'nose',
  'mouth',
  'right_ear',
  'left_ear',
] as const;
export type KeypointName = (typeof BLAZEFACE_KEYPOINTS)[number];

/** Values per anchor in the regressor output: box (cx, cy, w, h) and 6 key points (x, y). */
export const REGRESSOR_VALUES = 4 + 2 * BLAZEFACE_KEYPOINTS.length;

/** MediaPipe clips logits before the sigmoid; so do we, to keep exp() finite. */
const LOGIT_CLIP = 100;

/**
 * Anchor centres of one layer as [x0, y0, x1, y1, ...], in units of the input side (0..1), row by
 * row, all anchors of a cell sharing its centre.
 *
 * @example anchorCentres({ cells: 2, anchorsPerCell: 1 }) // Float32Array [0.25, 0.25, 0.75, 0.25, 0.25, 0.75, 0.75, 0.75]
 */
export function anchorCentres(layer: AnchorLayer): Float32Array {
  const out = new Float32Array(layer.cells * layer.cells * layer.anchorsPerCell * 2);
  let i = 0;
  for (let row = 0; row < layer.cells; row++) {
    for (let col = 0; col < layer.cells; col++) {
      for (let a = 0; a < layer.anchorsPerCell; a++) {
        out[i++] = (col + 0.5) / layer.cells;
        out[i++] = (row + 0.5) / layer.cells;
      }
    }
  }
  return out;
}

/**
 * A probability from a score logit.
 *
 * @example sigmoid(0) // 0.5
 */
export function sigmoid(logit: number): number {
  const clipped = Math.min(LOGIT_CLIP, Math.max(-LOGIT_CLIP, logit));
  return 1 / (1 + Math.exp(-clipped));
}

/**
 * The candidates of one layer scoring at least `minScore`, in input pixels (`inputSize` is the
 * side of the square network input). `logits` has one value per anchor, `regressors`
 * REGRESSOR_VALUES per anchor.
 *
 * @example decodeLayer(logits, regressors, { cells: 16, anchorsPerCell: 2 }, 256, 0.5)
 */
export function decodeLayer(
  logits: Float32Array,
  regressors: Float32Array,
  layer: AnchorLayer,
  inputSize: number,
  minScore: number,
): FaceCandidate[] {
  const centres = anchorCentres(layer);
  const anchors = centres.length / 2;
  if (logits.length !== anchors || regressors.length !== anchors * REGRESSOR_VALUES) {
    throw new RangeError(
      `a ${layer.cells}x${layer.cells}x${layer.anchorsPerCell} layer needs ${anchors} logits and ` +
        `${anchors * REGRESSOR_VALUES} regressor values, got ${logits.length} and ${regressors.length}`,
    );
  }
  // Compare logits, not probabilities: one exp() per kept candidate instead of per anchor.
  const minLogit = Math.log(minScore / (1 - minScore));
  const found: FaceCandidate[] = [];
  for (let i = 0; i < anchors; i++) {
    if (!(logits[i] >= minLogit)) continue;
    const ax = centres[2 * i] * inputSize;
    const ay = centres[2 * i + 1] * inputSize;
    const r = i * REGRESSOR_VALUES;
    const width = regressors[r + 2];
    const height = regressors[r + 3];
    if (!(width > 0 && height > 0)) continue;
    const keypoints: Point[] = [];
    for (let k = 0; k < BLAZEFACE_KEYPOINTS.length; k++) {
      keypoints.push({ x: ax + regressors[r + 4 + 2 * k], y: ay + regressors[r + 5 + 2 * k] });
    }
    found.push({
      left: ax + regressors[r] - width / 2,
      top: ay + regressors[r + 1] - height / 2,
      width,
      height,
      score: sigmoid(logits[i]),
      keypoints,
    });
  }
  return found;
}
