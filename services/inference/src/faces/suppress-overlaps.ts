/**
 * Non-maximum suppression for face candidates: one box per face. Anchor detectors propose each face
 * several times (neighbouring anchors, overlapping tiles, two scales); MediaPipe's weighted
 * suppression merges each cluster into the score-weighted mean of its members (steadier boxes and
 * key points than keeping the single best), and a box lying mostly inside a higher-scoring one is
 * dropped, so one face never gets two nested boxes. Pure functions.
 */
import type { FaceCandidate, Point } from './blazeface-decode';

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface SuppressionOptions {
  /** Candidates overlapping a kept box by at least this intersection-over-union join its cluster. */
  iou: number;
  /**
   * A box whose area lies at least this fraction inside a higher-scoring kept box is dropped (a
   * face box inside a head box, or the other way round: the fraction is of the smaller box).
   */
  contained: number;
}

function intersection(a: Rect, b: Rect): number {
  const x = Math.min(a.left + a.width, b.left + b.width) - Math.max(a.left, b.left);
  const y = Math.min(a.top + a.height, b.top + b.height) - Math.max(a.top, b.top);
  return x > 0 && y > 0 ? x * y : 0;
}

/**
 * Intersection over union of two boxes (0 when either is empty).
 *
 * @example iou({ left: 0, top: 0, width: 2, height: 2 }, { left: 1, top: 0, width: 2, height: 2 }) // 1/3
 */
export function iou(a: Rect, b: Rect): number {
  const inter = intersection(a, b);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * The fraction of the smaller box's area that lies inside the other box.
 *
 * @example overlapOfSmaller({ left: 0, top: 0, width: 10, height: 10 }, { left: 2, top: 2, width: 4, height: 4 }) // 1
 */
export function overlapOfSmaller(a: Rect, b: Rect): number {
  const smaller = Math.min(a.width * a.height, b.width * b.height);
  return smaller > 0 ? intersection(a, b) / smaller : 0;
}

/** The score-weighted mean of a cluster's boxes and key points, with the best member's score. */
function blend(cluster: readonly FaceCandidate[]): FaceCandidate {
  const total = cluster.reduce((sum, c) => sum + c.score, 0);
  const mean = (value: (c: FaceCandidate) => number) =>
    cluster.reduce((sum, c) => sum + value(c) * c.score, 0) / total;
  const keypoints: Point[] = cluster[0].keypoints.map((_, k) => ({
    x: mean((c) => c.keypoints[k].x),
    y: mean((c) => c.keypoints[k].y),
  }));
  return {
    left: mean((c) => c.left),
    top: mean((c) => c.top),
    width: mean((c) => c.width),
    height: mean((c) => c.height),
    score: cluster[0].score,
    keypoints,
  };
}

/**
 * One box per face: highest score first, each candidate's cluster (IoU >= `options.iou`) blended
 * into one box, then boxes mostly inside a higher-scoring kept box dropped. Returns the kept boxes
 * by descending score.
 *
 * @example suppressOverlaps(candidates, { iou: 0.3, contained: 0.7 })
 */
export function suppressOverlaps(
  candidates: readonly FaceCandidate[],
  options: SuppressionOptions,
): FaceCandidate[] {
  const remaining = [...candidates].sort((a, b) => b.score - a.score);
  const kept: FaceCandidate[] = [];
  while (remaining.length > 0) {
    const best = remaining[0];
    const cluster: FaceCandidate[] = [];
    for (let i = remaining.length - 1; i >= 0; i--) {
      if (i === 0 || iou(best, remaining[i]) >= options.iou) cluster.push(...remaining.splice(i, 1));
    }
    // Spliced from the end: restore descending score so the best member comes first.
    cluster.reverse();
    const merged = blend(cluster);
    if (kept.every((k) => overlapOfSmaller(k, merged) < options.contained)) kept.push(merged);
  }
  return kept;
}
