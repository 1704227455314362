/**
 * The model inputs of the detected faces, read from the original photo around the faces only: one
 * grayscale decode of the region that holds every crop (never the whole 10-megapixel photo, never
 * rotated whole), each crop cut from it (edge pixels repeated where it leaves the photo, or turned
 * so the eyes are level), then @fer/shared's toModelPixels and normalizePixels, exactly as
 * training prepared its images.
 */
import {
  cropWithEdgePadding,
  decodeGrayRegion,
  normalizePixels,
  rotatedCrop,
  toModelPixels,
  type GrayImage,
  type ImageInfo,
  type PreprocessSpec,
} from '@fer/shared';
import { faceRect, readRegion, rectBox, unionRegion, type CropGeometry } from '../faces/crop-geometry';
import type { FaceBox } from '../faces/face-boxes';

/** The grayscale crop of one face from the decoded `region` (upright pixels at `origin`). */
function cutFace(
  region: GrayImage,
  origin: { left: number; top: number },
  rect: ReturnType<typeof faceRect>,
): GrayImage {
  if (rect.angle !== 0) return rotatedCrop(region, rect, origin);
  const box = rectBox(rect);
  return cropWithEdgePadding(region, { ...box, left: box.left - origin.left, top: box.top - origin.top });
}

export interface FaceInputs {
  /** One normalized NHWC input per face, in the order of the faces. */
  inputs: Float32Array[];
  /** Milliseconds decoding the region, then cutting and resizing the crops. */
  decodeMs: number;
  preprocessMs: number;
}

/**
 * One normalized NHWC input per face, in the order of `faces`.
 *
 * @example const inputs = await faceInputs(bytes, info, faces, version.metadata.preprocessing, geometry, false);
 * @throws UndecodableImageError when the pixel data is corrupt.
 */
export async function faceInputs(
  bytes: Uint8Array,
  info: ImageInfo,
  faces: readonly FaceBox[],
  spec: PreprocessSpec,
  geometry: CropGeometry,
  align: boolean,
): Promise<FaceInputs> {
  const started = performance.now();
  const rects = faces.map((face) => faceRect(face, geometry, align));
  const regions = rects.map((rect) => readRegion(rect, info));
  // Every crop overlaps the image (boxes outside it were dropped); the union is null only without faces.
  const union = unionRegion(regions.filter((r) => r !== null));
  if (!union) return { inputs: [], decodeMs: 0, preprocessMs: 0 };
  const gray = await decodeGrayRegion(bytes, info, union);
  const decoded = performance.now();
  const inputs = await Promise.all(
    rects.map(async (rect) => normalizePixels(await toModelPixels(cutFace(gray, union, rect), spec), spec)),
  );
  return { inputs, decodeMs: decoded - started, preprocessMs: performance.now() - decoded };
}
