/**
 * `npm run -w services/inference measure-detectors`: the measurement behind the choice of face
 * detector (README, "Inference service"). Runs face-api's TinyFaceDetector at several input sizes
 * and score thresholds and SSD MobileNet V1 on the shared real photos, on the same downscaled
 * copies the service makes, and prints recall against the annotated face counts and the mean time
 * per photo on one TF.js thread. Needs ../shared/photos; prints JSON lines, then a table.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { probeImage } from '@fer/shared';
import { selectBackend } from '@fer/shared/tfjs';
import * as faceapi from '@vladmandic/face-api/dist/face-api.node-wasm.js';
import { detectionSize } from '../src/faces/face-boxes';
import { FACE_API_MODEL_DIR } from '../src/plugins/app/detector';

const REPO_ROOT = path.resolve(__dirname, '../../..');
const PHOTOS_DIR = path.resolve(REPO_ROOT, '../shared/photos');
const MAX_SIDE = 640;
/** Timed runs per photo and setting, after one warm-up run. */
const RUNS = 3;

/**
 * Faces per photo, from ../shared/photos/SOURCES.txt. bbt2 shows 2 main faces plus partial
 * background faces (counted as 2); the sidecar copy shows the 2 faces rotated 90 degrees.
 */
const EXPECTED: Record<string, number> = {
  'faceapi_angry.jpg': 1,
  'faceapi_disgusted.jpg': 1,
  'faceapi_fearful.jpg': 1,
  'faceapi_happy.jpg': 1,
  'faceapi_neutral.jpg': 1,
  'faceapi_sad.jpg': 1,
  'faceapi_surprised.jpg': 1,
  'faceapi_bbt1.jpg': 4,
  'faceapi_bbt2.jpg': 2,
  'faceapi_bbt3.jpg': 5,
  'faceapi_face_rectangular.png': 1,
  'faceapi_white.png': 0,
  'deepface_couple.jpg': 2,
  'deepface_img57.jpg': 1,
  'deepface_img67.jpg': 1,
  'deepface_img12.jpg': 1,
  'deepface_img62.jpg': 1,
  'deepface_img32.jpg': 1,
  'deepface_img47_is-webp.jpg': 1,
  'curie_photo.jpg': 2,
  'curie_photo.3.embedded.jpg': 2,
  'curie_photo.6.embedded.jpg': 2,
  'curie_photo.6.sidecar.jpg': 2,
  'exif_Landscape_6.jpg': 0,
};

interface Setting {
  name: string;
  options: faceapi.TinyFaceDetectorOptions | faceapi.SsdMobilenetv1Options;
}

const SETTINGS: Setting[] = [
  ...[320, 416, 512, 608].flatMap((inputSize) =>
    [0.3, 0.5].map((scoreThreshold) => ({
      name: `tiny input=${inputSize} min_score=${scoreThreshold}`,
      options: new faceapi.TinyFaceDetectorOptions({ inputSize, scoreThreshold }),
    })),
  ),
  ...[0.3, 0.5].map((minConfidence) => ({
    name: `ssd_mobilenet_v1 min_score=${minConfidence}`,
    options: new faceapi.SsdMobilenetv1Options({ minConfidence }),
  })),
];

async function loadPhoto(name: string): Promise<tf.Tensor3D> {
  const bytes = await readFile(path.join(PHOTOS_DIR, name));
  const info = await probeImage(bytes);
  const size = detectionSize(info, MAX_SIDE);
  const rgb = await sharp(bytes)
    .autoOrient()
    .resize(size.width, size.height, { fit: 'fill' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer();
  return tf.tensor3d(rgb, [size.height, size.width, 3], 'int32');
}

async function main(): Promise<void> {
  const backend = await selectBackend('wasm');
  await faceapi.nets.tinyFaceDetector.loadFromDisk(FACE_API_MODEL_DIR);
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(FACE_API_MODEL_DIR);
  const photos = await Promise.all(
    Object.keys(EXPECTED).map(async (name) => [name, await loadPhoto(name)] as const),
  );
  const expectedTotal = Object.values(EXPECTED).reduce((a, b) => a + b, 0);
  const rows: string[] = [];
  for (const setting of SETTINGS) {
    let found = 0;
    let extra = 0;
    let ms = 0;
    const misses: string[] = [];
    for (const [name, image] of photos) {
      await faceapi.detectAllFaces(image as unknown as faceapi.TNetInput, setting.options);
      const started = performance.now();
      let detections: faceapi.FaceDetection[] = [];
      for (let run = 0; run < RUNS; run++) {
        detections = await faceapi.detectAllFaces(image as unknown as faceapi.TNetInput, setting.options);
      }
      ms += (performance.now() - started) / RUNS;
      const expected = EXPECTED[name];
      found += Math.min(expected, detections.length);
      extra += Math.max(0, detections.length - expected);
      if (detections.length !== expected) misses.push(`${name}:${detections.length}/${expected}`);
    }
    const result = {
      setting: setting.name,
      backend: backend.name,
      recall: found / expectedTotal,
      faces_found: found,
      faces_annotated: expectedTotal,
      extra_detections: extra,
      mean_ms_per_photo: ms / photos.length,
      mismatches: misses,
    };
    console.log(JSON.stringify(result));
    rows.push(
      `| ${setting.name} | ${found}/${expectedTotal} (${(100 * result.recall).toFixed(0)}%) | ${extra} | ${result.mean_ms_per_photo.toFixed(0)} |`,
    );
  }
  console.log(
    `\nphotos: ${photos.length}, longest side ${MAX_SIDE} px, backend ${backend.name} (one thread)\n`,
  );
  console.log('| detector | faces found | extra | ms/photo |\n|---|---|---|---|');
  console.log(rows.join('\n'));
  for (const [, image] of photos) image.dispose();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
