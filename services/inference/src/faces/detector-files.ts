/**
 * Where the face detectors' weights live: BlazeFace vendored in this workspace (detectors/blazeface,
 * with its licence), face-api's inside its npm package. Nothing is downloaded at run time.
 */
import path from 'node:path';

/** The vendored BlazeFace files and the crop geometry fitted for them. */
export const BLAZEFACE_DIR = path.resolve(__dirname, '../../detectors/blazeface');
/** Full-range ("back camera") model, 256x256 input: the default detector. */
export const BLAZEFACE_BACK = path.join(BLAZEFACE_DIR, 'face_detection_back_256x256_barracuda.onnx');
/** Short-range ("front camera") model, 128x128 input: faces filling much of the picture. */
export const BLAZEFACE_FRONT = path.join(BLAZEFACE_DIR, 'face_detection_front_128x128_barracuda.onnx');
/** The crop geometry fitted for BlazeFace's boxes (crop-geometry.ts). */
export const BLAZEFACE_GEOMETRY = path.join(BLAZEFACE_DIR, 'crop-geometry.json');

/** face-api ships its pretrained TF.js weights inside the npm package. */
export const FACE_API_MODEL_DIR = path.join(
  path.dirname(require.resolve('@vladmandic/face-api/package.json')),
  'model',
);
