/**
 * POST /predict against an independent computation of the same answer: the shipped models'
 * model.onnx opened here with ONNX Runtime directly (its own session, default options), fed by
 * @fer/shared's preprocessImage (decode with EXIF orientation, resize, normalize by the version's
 * metadata), compared per class with what the service answers over real HTTP for crop=none. A
 * mix-up anywhere in the service's path (a wrong crop, channel order, normalization, batching
 * slot, class order) moves the probabilities far more than the tolerance.
 */
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { listModels, ONNX_FILE, preprocessImage, type ModelMetadata } from '@fer/shared';
import { DEFAULT_REGISTRY_DIR, SHIPPED_DEFAULT_MODEL } from '../../src/config';
import { distinctImages } from '../../tools/answer-key';
import { faceCrop } from '../helpers/images';
import { READY_TIMEOUT_MS, startService, type TestService } from '../helpers/service';

const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + 60_000;
const TEST_TIMEOUT_MS = 60_000;
/** The same float32 graph on the same input, in two sessions (thread counts may differ). */
const TOLERANCE = 1e-5;

let service: TestService;
const models: { name: string; metadata: ModelMetadata; session: ort.InferenceSession }[] = [];
let images: { name: string; bytes: Buffer; type: string }[];

/** A 320x240 drawn face stored sideways with EXIF orientation 6: only an upright decode matches. */
async function rotatedPhoto(): Promise<Buffer> {
  const face = await faceCrop('png', 5);
  return sharp(await sharp(face).resize(240, 240).toBuffer())
    .extend({ left: 40, right: 40, background: '#404040' })
    .rotate(270)
    .withMetadata({ orientation: 6 })
    .jpeg()
    .toBuffer();
}

beforeAll(async () => {
  // The shipped registry, read in place (nothing here writes to it).
  service = await startService({
    registry: DEFAULT_REGISTRY_DIR,
    env: { DEFAULT_MODEL: SHIPPED_DEFAULT_MODEL, REGISTRY_WATCH: 'false' },
  });
  for (const model of await listModels(DEFAULT_REGISTRY_DIR, { verify: 'size' })) {
    // The newest ready version: what the service answers for a request naming only the model.
    const version = model.versions.find((v) => v.version === model.latest);
    if (!version || version.status !== 'ready') continue;
    const session = await ort.InferenceSession.create(path.join(version.dir, ONNX_FILE));
    models.push({ name: model.name, metadata: version.metadata, session });
  }
  const [noise1, noise2] = await distinctImages(2, 15);
  images = [
    { name: 'face crop (JPEG)', bytes: await faceCrop('jpeg', 1), type: 'image/jpeg' },
    { name: 'face crop (WebP)', bytes: await faceCrop('webp', 2), type: 'image/webp' },
    { name: 'noise (PNG)', bytes: noise1, type: 'image/png' },
    { name: 'other noise (PNG)', bytes: noise2, type: 'image/png' },
    { name: 'EXIF-rotated photo (JPEG)', bytes: await rotatedPhoto(), type: 'image/jpeg' },
  ];
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await service?.close();
  await Promise.all(models.map((m) => m.session.release()));
});

/** The model's probabilities for `bytes`, computed here without the service. */
async function independently(model: (typeof models)[number], bytes: Buffer): Promise<Record<string, number>> {
  const spec = model.metadata.preprocessing;
  const input = await preprocessImage(bytes, spec);
  const tensor = new ort.Tensor('float32', input, [1, spec.input_size, spec.input_size, spec.channels]);
  const output = (await model.session.run({ input: tensor })).probabilities.data as Float32Array;
  return Object.fromEntries(model.metadata.classes.map((name, i) => [name, output[i]]));
}

test('the shipped registry holds the default model and at least one other', () => {
  expect(models.map((m) => m.name)).toContain(SHIPPED_DEFAULT_MODEL);
  expect(models.length).toBeGreaterThanOrEqual(2);
});

test(
  `POST /predict (crop=none) matches preprocessing plus the ONNX model run directly, within ${TOLERANCE}`,
  async () => {
    const differences: string[] = [];
    for (const model of models) {
      for (const image of images) {
        const expected = await independently(model, image.bytes);
        const response = await service.predict(image.bytes, `?crop=none&model=${model.name}`, image.type);
        expect(response.status).toBe(200);
        // Answered by the model named (the study's DenseNet as much as the default ResNet ensemble).
        expect(response.body.model.name).toBe(model.name);
        const served = response.body.faces[0].probabilities as Record<string, number>;
        expect(Object.keys(served).sort()).toEqual(Object.keys(expected).sort());
        const worst = Math.max(...Object.keys(expected).map((c) => Math.abs(served[c] - expected[c])));
        if (!(worst <= TOLERANCE)) differences.push(`${model.name}, ${image.name}: ${worst}`);
      }
    }
    expect(differences).toEqual([]);
  },
  TEST_TIMEOUT_MS,
);
