/**
 * How a detected face box becomes the crop the model sees: a rectangle around the box (margin,
 * aspect, vertical offset), optionally turned so the eyes are level. The numbers are fitted per
 * detector on the training split (`npm run bench:photo-path -- --fit`) so crops frame faces the way
 * the dataset's images do, and read from the detector's crop-geometry.json; nothing here is tuned
 * by hand. Pure functions.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { CropBox, RotatedRect } from '@fer/shared';
import type { FaceBox, Size } from './face-boxes';

export const cropGeometrySchema = z.object({
  /** Extra border on each side, as a fraction of the box's longer side (the crop's height). */
  margin: z.number().min(-0.4).max(1),
  /** Crop width over crop height (the crop is resized to a square afterwards). */
  aspect: z.number().min(0.5).max(2),
  /** Shift of the crop's centre along the face's vertical axis, as a fraction of the box height (down > 0). */
  offset_y: z.number().min(-0.5).max(0.5),
  /** Default of the align query parameter: turn each crop so the eyes are level. */
  align: z.boolean(),
});

export type CropGeometry = z.infer<typeof cropGeometrySchema>;

/** The geometry a box gets with only a margin: the square `marginBox` of @fer/shared. */
export function marginGeometry(margin: number): CropGeometry {
  return { margin, aspect: 1, offset_y: 0, align: false };
}

/**
 * Reads a detector's crop-geometry.json (the fitted numbers plus a description of the fit, which is
 * ignored here).
 *
 * @example const geometry = loadCropGeometry('detectors/blazeface/crop-geometry.json');
 * @throws Error naming the file when it is missing or invalid.
 */
export function loadCropGeometry(file: string): CropGeometry {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`crop geometry ${file}: ${String(error)}`, { cause: error });
  }
  const parsed = cropGeometrySchema.safeParse((raw as { geometry?: unknown })?.geometry);
  if (!parsed.success) throw new Error(`crop geometry ${file}: ${parsed.error.message}`);
  return parsed.data;
}

/**
 * The angle (radians, clockwise in image coordinates) that levels the eyes, or 0 without both eyes.
 *
 * @example eyeAngle({ right_eye: { x: 10, y: 10 }, left_eye: { x: 20, y: 20 } }) // Math.PI / 4
 */
export function eyeAngle(landmarks: FaceBox['landmarks']): number {
  const right = landmarks?.right_eye;
  const left = landmarks?.left_eye;
  if (!right || !left) return 0;
  return Math.atan2(left.y - right.y, left.x - right.x);
}

/**
 * The crop rectangle of a face: centred on the box (shifted by `offset_y` along the face's own
 * vertical), `(1 + 2 margin)` times its longer side high, `aspect` times that wide, turned by the
 * eye angle when `align` is set and the detector gave eyes.
 *
 * @example faceRect({ left: 0, top: 0, width: 100, height: 100, score: 1 }, { margin: 0.1, aspect: 1, offset_y: 0, align: false }, false)
 * // { cx: 50, cy: 50, width: 120, height: 120, angle: 0 }
 */
export function faceRect(face: FaceBox, geometry: CropGeometry, align: boolean): RotatedRect {
  const height = Math.max(face.width, face.height) * (1 + 2 * geometry.margin);
  const angle = align ? eyeAngle(face.landmarks) : 0;
  const shift = geometry.offset_y * face.height;
  return {
    cx: face.left + face.width / 2 - shift * Math.sin(angle),
    cy: face.top + face.height / 2 + shift * Math.cos(angle),
    width: height * geometry.aspect,
    height,
    angle,
  };
}

/**
 * The axis-aligned box of an unturned rectangle, as `cropWithEdgePadding` takes it.
 *
 * @example rectBox({ cx: 50, cy: 50, width: 120, height: 120, angle: 0 }) // { left: -10, top: -10, width: 120, height: 120 }
 */
export function rectBox(rect: RotatedRect): CropBox {
  return {
    left: rect.cx - rect.width / 2,
    top: rect.cy - rect.height / 2,
    width: rect.width,
    height: rect.height,
  };
}

/**
 * The whole-pixel part of the image a crop reads (null when it lies entirely outside): for an
 * unturned rectangle exactly the pixels `cropWithEdgePadding` reads; for a turned one the bounding
 * box of its corners plus one pixel for interpolation.
 *
 * @example readRegion({ cx: 50, cy: 50, width: 120, height: 120, angle: 0 }, { width: 80, height: 200 }) // { left: 0, top: 0, width: 80, height: 110 }
 */
export function readRegion(rect: RotatedRect, image: Size): CropBox | null {
  let x0: number;
  let y0: number;
  let x1: number;
  let y1: number;
  if (rect.angle === 0) {
    const box = rectBox(rect);
    x0 = Math.round(box.left);
    y0 = Math.round(box.top);
    x1 = x0 + Math.max(1, Math.round(box.width));
    y1 = y0 + Math.max(1, Math.round(box.height));
  } else {
    const cos = Math.abs(Math.cos(rect.angle));
    const sin = Math.abs(Math.sin(rect.angle));
    const halfW = (rect.width * cos + rect.height * sin) / 2;
    const halfH = (rect.width * sin + rect.height * cos) / 2;
    x0 = Math.floor(rect.cx - halfW) - 1;
    y0 = Math.floor(rect.cy - halfH) - 1;
    x1 = Math.ceil(rect.cx + halfW) + 1;
    y1 = Math.ceil(rect.cy + halfH) + 1;
  }
  const left = Math.max(0, x0);
  const top = Math.max(0, y0);
  const right = Math.min(image.width, x1);
  const bottom = Math.min(image.height, y1);
  if (right <= left || bottom <= top) return null;
  return { left, top, width: right - left, height: bottom - top };
}

/**
 * The smallest box holding every region (one decode for all faces of a photo).
 *
 * @example unionRegion([{ left: 0, top: 0, width: 2, height: 2 }, { left: 5, top: 1, width: 1, height: 4 }]) // { left: 0, top: 0, width: 6, height: 5 }
 */
export function unionRegion(regions: readonly CropBox[]): CropBox | null {
  if (regions.length === 0) return null;
  const left = Math.min(...regions.map((r) => r.left));
  const top = Math.min(...regions.map((r) => r.top));
  const right = Math.max(...regions.map((r) => r.left + r.width));
  const bottom = Math.max(...regions.map((r) => r.top + r.height));
  return { left, top, width: right - left, height: bottom - top };
}
