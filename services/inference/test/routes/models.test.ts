/**
 * GET /models and GET /models/{name}/versions/{version} over a registry that changes while the
 * service runs: a newly published version loads and serves without a restart and without a failed
 * request; a broken version is reported as failed with its error and disturbs nothing.
 */
import { cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CLASSES } from '@fer/shared';
import { faceCrop } from '../helpers/images';
import { READY_TIMEOUT_MS, startService, waitUntil, type Sent, type TestService } from '../helpers/service';
import { makeModel } from '../../tools/make-model';
import {
  freshRegistry,
  MAKE_MODEL_TIMEOUT_MS,
  publishNextVersion,
  removeDir,
  TEST_INPUT_SIZE,
  TEST_MODEL,
} from '../helpers/test-models';

const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;
/** The watcher's debounce plus a model load on a busy machine. */
const RELOAD_TIMEOUT_MS = 20_000;
const TEST_TIMEOUT_MS = RELOAD_TIMEOUT_MS + 20_000;
/** Different weights give answers at least this different on some class. */
const DIFFERENT_ANSWER = 1e-4;
/** Pause between the background requests that watch for failures during a reload. */
const TRAFFIC_INTERVAL_MS = 20;
/** A rescan interval longer than the tests that rely on file-system events alone. */
const NO_RESCAN_MS = 600_000;

let face: Buffer;
beforeAll(async () => {
  face = await faceCrop('jpeg');
});

interface VersionSummary {
  version: number;
  status: string;
  error: string | null;
  default: boolean;
}

async function versions(service: TestService, name = TEST_MODEL): Promise<VersionSummary[]> {
  const response = await service.request('GET', '/models');
  expect(response.status).toBe(200);
  return response.body.models.find((m: { name: string }) => m.name === name)?.versions ?? [];
}

async function statusOf(service: TestService, version: number): Promise<string | undefined> {
  return (await versions(service)).find((v) => v.version === version)?.status;
}

/** Places a version folder into the registry with one rename, as publish does. */
async function placeVersion(
  registry: string,
  version: number,
  fill: (dir: string) => Promise<void>,
): Promise<void> {
  const staging = path.join(registry, TEST_MODEL, `.staging-test-${version}`);
  await mkdir(staging, { recursive: true });
  await fill(staging);
  await rename(staging, path.join(registry, TEST_MODEL, String(version)));
}

describe('GET /models', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startService();
  }, SETUP_TIMEOUT_MS);
  afterAll(() => service?.close());

  test('lists the model, its ready version, input size and the default', async () => {
    const response = await service.request('GET', '/models');
    expect(response.body.default_model).toBe(TEST_MODEL);
    const [model] = response.body.models;
    expect(model).toMatchObject({ name: TEST_MODEL, default_version: 1 });
    expect(model.versions).toEqual([
      expect.objectContaining({
        version: 1,
        status: 'ready',
        default: true,
        error: null,
        input_size: TEST_INPUT_SIZE,
      }),
    ]);
  });

  test('a version has its full metadata', async () => {
    const response = await service.request('GET', `/models/${TEST_MODEL}/versions/1`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ name: TEST_MODEL, version: 1, status: 'ready', default: true });
    expect(response.body.metadata.classes).toEqual([...CLASSES]);
    expect(response.body.metadata.preprocessing.input_size).toBe(TEST_INPUT_SIZE);
    expect(response.body.load_ms).toBeGreaterThanOrEqual(0);
  });

  test.each<[string, string, number, string]>([
    ['an unknown model', '/models/nosuch/versions/1', 404, 'MODEL_NOT_FOUND'],
    ['an unknown version', `/models/${TEST_MODEL}/versions/42`, 404, 'MODEL_NOT_FOUND'],
    ['a version that is not a number', `/models/${TEST_MODEL}/versions/latest`, 400, 'INVALID_REQUEST'],
  ])('%s', async (_name, url, status, code) => {
    const response: Sent = await service.request('GET', url);
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
  });
});

describe('registry changes while serving', () => {
  let service: TestService;
  beforeAll(async () => {
    // No periodic rescan within the test: the file-system watch alone must notice the changes.
    service = await startService({ env: { REGISTRY_RESCAN_MS: String(NO_RESCAN_MS) } });
  }, SETUP_TIMEOUT_MS);
  afterAll(() => service?.close());

  test(
    'a newly published version is loaded and served without a restart or a failed request',
    async () => {
      const v1 = (await service.predict(face, '?crop=none')).body.faces[0].probabilities;
      const statuses: number[] = [];
      const served = new Set<number>();
      let running = true;
      const traffic = (async () => {
        while (running) {
          const response = await service.predict(face, '?crop=none');
          statuses.push(response.status);
          if (response.status === 200) served.add(response.body.model.version);
          await new Promise((resolve) => setTimeout(resolve, TRAFFIC_INTERVAL_MS));
        }
      })();

      const version = await publishNextVersion(service.registry);
      expect(version).toBe(2);
      await waitUntil(
        async () => (await statusOf(service, 2)) === 'ready',
        RELOAD_TIMEOUT_MS,
        'version 2 to load',
      );
      await waitUntil(() => served.has(2), RELOAD_TIMEOUT_MS, 'a default request served by version 2');
      running = false;
      await traffic;

      expect(statuses.length).toBeGreaterThan(0);
      expect(statuses.every((s) => s === 200)).toBe(true);
      expect(served).toEqual(new Set([1, 2]));
      const listed = await versions(service);
      expect(listed.map((v) => [v.version, v.status, v.default])).toEqual([
        [1, 'ready', false],
        [2, 'ready', true],
      ]);
      const pinned = await service.predict(face, '?crop=none&version=2');
      expect(pinned.body.model.version).toBe(2);
      const v2 = pinned.body.faces[0].probabilities;
      expect(CLASSES.some((name) => Math.abs(v2[name] - v1[name]) > DIFFERENT_ANSWER)).toBe(true);
      expect((await service.predict(face, '?crop=none&version=1')).body.model.version).toBe(1);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a version that fails to load is reported as failed and disturbs nothing',
    async () => {
      const source = path.join(service.registry, TEST_MODEL, '1');
      await placeVersion(service.registry, 3, async (dir) => {
        await cp(source, dir, { recursive: true });
        // Same size as the real model (so the registry listing accepts it), but not an ONNX graph.
        const model = path.join(dir, 'model.onnx');
        const size = (await readFile(model)).length;
        await writeFile(model, Buffer.alloc(size, 0x42));
        const metadata = JSON.parse(await readFile(path.join(dir, 'metadata.json'), 'utf8'));
        await writeFile(path.join(dir, 'metadata.json'), JSON.stringify({ ...metadata, version: 3 }));
      });
      await placeVersion(service.registry, 4, async (dir) => {
        await writeFile(path.join(dir, 'metadata.json'), '{ not json');
      });
      await waitUntil(
        async () => (await statusOf(service, 3)) === 'failed' && (await statusOf(service, 4)) === 'failed',
        RELOAD_TIMEOUT_MS,
        'versions 3 and 4 to fail',
      );
      const listed = await versions(service);
      const broken = listed.filter((v) => v.version >= 3);
      for (const v of broken) {
        expect(v.error).toBeTruthy();
        expect(v.error).not.toContain(service.registry);
        expect(v.default).toBe(false);
      }
      expect(broken[1].error).toMatch(/metadata\.json/);
      expect(listed.filter((v) => v.status === 'ready').map((v) => v.version)).toEqual([1, 2]);

      const detail = await service.request('GET', `/models/${TEST_MODEL}/versions/3`);
      expect(detail.body).toMatchObject({ status: 'failed', version: 3 });
      const pinned = await service.predict(face, '?crop=none&version=3');
      expect(pinned.status).toBe(404);
      expect(pinned.body.error.code).toBe('MODEL_NOT_FOUND');
      const fallback = await service.predict(face, '?crop=none');
      expect(fallback.body.model.version).toBe(2);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a removed version disappears',
    async () => {
      await rm(path.join(service.registry, TEST_MODEL, '4'), { recursive: true });
      await waitUntil(
        async () => (await statusOf(service, 4)) === undefined,
        RELOAD_TIMEOUT_MS,
        'version 4 to go',
      );
    },
    TEST_TIMEOUT_MS,
  );
});

describe('both backbone families', () => {
  /** The study's DenseNet configuration, as models/ ships it (here with seeded random weights). */
  const DENSENET = 'densenet-small';
  let service: TestService;
  let registry: string;
  beforeAll(async () => {
    registry = await freshRegistry();
    const request = { config: DENSENET, inputSize: TEST_INPUT_SIZE, registry, seed: 3 };
    await makeModel({ ...request, timeoutMs: MAKE_MODEL_TIMEOUT_MS });
    service = await startService({ registry });
    await waitUntil(
      async () =>
        (await versions(service, DENSENET)).some((v) => v.status === 'ready') &&
        (await versions(service, TEST_MODEL)).some((v) => v.status === 'ready'),
      RELOAD_TIMEOUT_MS,
      `${DENSENET} and ${TEST_MODEL} to load`,
    );
  }, SETUP_TIMEOUT_MS + MAKE_MODEL_TIMEOUT_MS);
  afterAll(async () => {
    await service?.close();
    await removeDir(registry);
  });

  test(`GET /models lists a ResNet and a DenseNet; ?model=${DENSENET} is answered by the DenseNet`, async () => {
    const list = await service.request('GET', '/models');
    const families = Object.fromEntries(
      list.body.models.map((m: { name: string; versions: { architecture: { family: string } }[] }) => [
        m.name,
        m.versions[0].architecture.family,
      ]),
    );
    expect(families).toEqual({ [TEST_MODEL]: 'resnet', [DENSENET]: 'densenet' });
    const detail = await service.request('GET', `/models/${DENSENET}/versions/1`);
    expect(detail.body.metadata.architecture).toMatchObject({ family: 'densenet', config: DENSENET });

    const densenet = await service.predict(face, `?crop=none&model=${DENSENET}`);
    expect(densenet.status).toBe(200);
    expect(densenet.body.model).toEqual({ name: DENSENET, version: 1 });
    const resnet = await service.predict(face, `?crop=none&model=${TEST_MODEL}`);
    expect([resnet.status, resnet.body.model?.name]).toEqual([200, TEST_MODEL]);
    const [a, b] = [densenet, resnet].map((r) => r.body.faces[0].probabilities);
    expect(CLASSES.some((name) => Math.abs(a[name] - b[name]) > DIFFERENT_ANSWER)).toBe(true);
  });
});

describe('MODEL_VERSIONS_LOADED', () => {
  let service: TestService;
  let registry: string;
  beforeAll(async () => {
    registry = await freshRegistry();
    await publishNextVersion(registry);
    service = await startService({ registry, env: { MODEL_VERSIONS_LOADED: '1' } });
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await service?.close();
    await removeDir(registry);
  });

  test('only the newest version is loaded; older ones are listed as not_loaded', async () => {
    const listed = await versions(service);
    expect(listed.map((v) => [v.version, v.status])).toEqual([
      [1, 'not_loaded'],
      [2, 'ready'],
    ]);
    const pinned = await service.predict(face, '?crop=none&version=1');
    expect(pinned.status).toBe(404);
    expect(pinned.body.error.message).toMatch(/not loaded/);
  });
});

describe('periodic rescan without file-system events', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startService({ env: { REGISTRY_WATCH: 'false', REGISTRY_RESCAN_MS: '300' } });
  }, SETUP_TIMEOUT_MS);
  afterAll(() => service?.close());

  test(
    'a published version is found by the rescan alone',
    async () => {
      await publishNextVersion(service.registry);
      await waitUntil(
        async () => (await statusOf(service, 2)) === 'ready',
        RELOAD_TIMEOUT_MS,
        'version 2 to load',
      );
      expect((await service.predict(face, '?crop=none')).body.model.version).toBe(2);
    },
    TEST_TIMEOUT_MS,
  );
});
