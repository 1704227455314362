/**
 * Geometry between the detector and the crops: the size of the downscaled copy the detector sees,
 * mapping its boxes back to the upright original, and choosing which faces a request gets.
 * Pure functions; the margin and square crop themselves come from @fer/shared's `marginBox`.
 */
import type { CropBox } from '@fer/shared';
import type { Point } from './blazeface-decode';
import type { RawDetection } from './detector-protocol';

export interface Size {
  width: number;
  height: number;
}

/** A detected face in the pixel coordinates of the upright original image. */
export interface FaceBox extends CropBox {
  score: number;
  /** Named points (eyes, nose, mouth, ears) where the detector gives them. */
  landmarks?: Record<string, Point>;
}

/**
 * The size of the copy the detector runs on: the longest side at most `maxSide`, never enlarged,
 * aspect ratio kept (each side at least 1 px).
 *
 * @example detectionSize({ width: 2280, height: 1588 }, 640) // { width: 640, height: 446 }
 */
export function detectionSize(original: Size, maxSide: number): Size {
  const scale = Math.min(1, maxSide / Math.max(original.width, original.height));
  return {
    width: Math.max(1, Math.round(original.width * scale)),
    height: Math.max(1, Math.round(original.height * scale)),
  };
}

/**
 * Maps boxes (and their landmarks) found on the downscaled copy back to the original. Boxes are not clipped (the crop
 * replicates edge pixels where a face touches the border, so it keeps its size and centre); boxes
 * lying entirely outside the image are dropped.
 *
 * @example toOriginal([{ left: 10, top: 10, width: 20, height: 20, score: 0.9 }], { width: 64, height: 64 }, { width: 640, height: 640 })
 * // [{ left: 100, top: 100, width: 200, height: 200, score: 0.9 }]
 */
export function toOriginal(detections: readonly RawDetection[], detected: Size, original: Size): FaceBox[] {
  const sx = original.width / detected.width;
  const sy = original.height / detected.height;
  return detections
    .map((d): FaceBox => {
      const box: FaceBox = {
        left: d.left * sx,
        top: d.top * sy,
        width: d.width * sx,
        height: d.height * sy,
        score: d.score,
      };
      if (d.landmarks) {
        box.landmarks = Object.fromEntries(
          Object.entries(d.landmarks).map(([name, p]) => [name, { x: p.x * sx, y: p.y * sy }]),
        );
      }
      return box;
    })
    .filter(
      (b) =>
        b.width > 0 &&
        b.height > 0 &&
        b.left < original.width &&
        b.top < original.height &&
        b.left + b.width > 0 &&
        b.top + b.height > 0,
    );
}

/**
 * A box clipped to the image and rounded to whole pixels, as the response reports it.
 *
 * @example reportedBox({ left: -3.2, top: 2.6, width: 10.5, height: 3 }, { width: 100, height: 100 }) // { left: 0, top: 3, width: 7, height: 3 }
 */
export function reportedBox(box: CropBox, image: Size): CropBox {
  const left = Math.round(Math.min(Math.max(0, box.left), image.width - 1));
  const top = Math.round(Math.min(Math.max(0, box.top), image.height - 1));
  const right = Math.round(Math.min(image.width, Math.max(box.left + box.width, left + 1)));
  const bottom = Math.round(Math.min(image.height, Math.max(box.top + box.height, top + 1)));
  return { left, top, width: Math.max(1, right - left), height: Math.max(1, bottom - top) };
}

export type FacesMode = 'all' | 'largest';

/**
 * The faces a request gets, largest first: all of them up to `maxFaces`, or only the largest.
 *
 * @example selectFaces(boxes, 'largest', 10) // [the biggest box]
 */
export function selectFaces(boxes: readonly FaceBox[], mode: FacesMode, maxFaces: number): FaceBox[] {
  const sorted = [...boxes].sort((a, b) => b.width * b.height - a.width * a.height || b.score - a.score);
  return sorted.slice(0, mode === 'largest' ? 1 : maxFaces);
}
