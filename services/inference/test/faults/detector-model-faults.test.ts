/**
 * A missing or corrupt face-detector model file: the service starts (health checks, crop=none keep
 * working) but never becomes ready; the log names the file and the reason; requests that need the
 * detector get 503 NOT_READY with a Retry-After, never 500.
 */
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BLAZEFACE_BACK } from '../../src/faces/detector-files';
import { faceCrop } from '../helpers/images';
import { captureLogs } from '../helpers/log-capture';
import { READY_TIMEOUT_MS, startService, waitUntil, type TestService } from '../helpers/service';

const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;
/** Workers fail fast on a bad file; this bounds waiting for that to be logged. */
const FAILURE_TIMEOUT_MS = 60_000;
const TEST_TIMEOUT_MS = FAILURE_TIMEOUT_MS + 30_000;

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fer-detector-'));
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function brokenModel(kind: string): Promise<string> {
  const file = path.join(dir, `${kind}.onnx`);
  if (kind === 'corrupt') {
    // The real model's first 4 KB: a protobuf that ends mid-graph.
    await writeFile(file, (await readFile(BLAZEFACE_BACK)).subarray(0, 4096));
  } else if (kind === 'not-blazeface') {
    // A valid ONNX file with the wrong interface: the shipped default expression model.
    await writeFile(
      file,
      await readFile(path.resolve(__dirname, '../../../../models/resnet-small-x3/1/model.onnx')),
    );
  }
  return file;
}

describe.each([
  ['missing', /does not exist/],
  ['corrupt', /ONNX Runtime cannot load it/],
  ['not-blazeface', /not a BlazeFace model/],
])('a %s detector model file', (kind, reason) => {
  let service: TestService;
  let file: string;
  const logs = captureLogs('info');

  beforeAll(async () => {
    file = await brokenModel(kind);
    service = await startService({ env: { DETECTOR_MODEL: file }, logger: logs.logger, waitFor: 'models' });
  }, SETUP_TIMEOUT_MS);
  afterAll(() => service?.close());

  test(
    'keeps the service from becoming ready, logs the file and the reason, and answers 503 NOT_READY',
    async () => {
      await waitUntil(
        () => service.app.detector.state === 'failed',
        FAILURE_TIMEOUT_MS,
        'the detector to fail',
      );
      const [logged] = logs.withMessage('face detector failed to start');
      expect(String(logged?.err)).toContain(file);
      expect(String(logged?.err)).toMatch(reason);

      const ready = await service.request('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.error.code).toBe('NOT_READY');

      const predicted = await service.predict(await faceCrop('jpeg'));
      expect(predicted.status).toBe(503);
      expect(predicted.body.error.code).toBe('NOT_READY');
      expect(predicted.headers['retry-after']).toBeDefined();

      // What does not need the detector still works.
      expect((await service.request('GET', '/healthz')).status).toBe(200);
      expect((await service.predict(await faceCrop('jpeg'), '?crop=none')).status).toBe(200);
    },
    TEST_TIMEOUT_MS,
  );
});
