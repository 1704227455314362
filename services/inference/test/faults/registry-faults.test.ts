/**
 * Registry faults while the service serves steady traffic:
 *   - the registry directory becomes unreadable: the versions already loaded keep serving, the
 *     failed rescans are logged, and once the directory is back a newly published version is
 *     picked up. The tests run as root in CI, where `chmod 000` does not stop reads, so the
 *     directory is made unreadable for real in two ways that hold for root too: it is renamed away
 *     (readdir: ENOENT, as when a volume is unmounted) and replaced by a regular file (ENOTDIR).
 *     Under a non-root user the chmod case runs as well (EACCES).
 *   - a model file is deleted under a loaded version: that version is reported as failed (with a
 *     registry-relative error), requests pinned to it get 404 MODEL_NOT_FOUND, the others fall
 *     back to the remaining version, and no request fails or gets someone else's answer — also a
 *     request that resolved the version just before it went away (held in detection meanwhile).
 */
import { chmod, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { answerKey, distinctImages, type AnswerKey } from '../../tools/answer-key';
import { HAVE_PHOTOS, PHOTOS_DIR } from '../helpers/images';
import { captureLogs } from '../helpers/log-capture';
import { READY_TIMEOUT_MS, startService, waitUntil, type TestService } from '../helpers/service';
import { freshRegistry, publishNextVersion, removeDir, TEST_MODEL } from '../helpers/test-models';
import { describeOutcomes, Traffic, wrongOutcomes } from './traffic';

const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;
/** Rescans this often, so a fault is seen within a fraction of a second. */
const RESCAN_MS = 200;
/** Failed rescans to see before a fault is judged harmless. */
const FAILED_SCANS = 3;
/** A rescan plus a model load on a busy machine. */
const CHANGE_TIMEOUT_MS = 20_000;
const TEST_TIMEOUT_MS = 60_000;
const IMAGES = 8;
const CLIENTS = 2;
const IS_ROOT = process.getuid?.() === 0;

interface VersionSummary {
  version: number;
  status: string;
  error: string | null;
}

async function versions(service: TestService): Promise<VersionSummary[]> {
  const response = await service.request('GET', '/models');
  return response.body.models.find((m: { name: string }) => m.name === TEST_MODEL)?.versions ?? [];
}

describe('the registry directory becomes unreadable', () => {
  const logs = captureLogs('info');
  let service: TestService;
  let images: Buffer[];
  let keys: Map<number, AnswerKey>;

  beforeAll(async () => {
    service = await startService({ env: { REGISTRY_RESCAN_MS: String(RESCAN_MS) }, logger: logs.logger });
    images = await distinctImages(IMAGES);
    const key = await answerKey((image) => service.predict(image, '?crop=none', 'image/png'), images);
    keys = new Map([[1, key]]);
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await service?.close();
  });

  /** Applies `fault` under traffic, checks the service is unaffected, then `repair`s it. */
  async function survives(fault: () => Promise<void>, repair: () => Promise<void>): Promise<void> {
    const traffic = new Traffic(CLIENTS, IMAGES, (i) =>
      service.predict(images[i], '?crop=none', 'image/png'),
    );
    const failedBefore = logs.withMessage('registry scan failed').length;
    try {
      await fault();
      try {
        await waitUntil(
          () => logs.withMessage('registry scan failed').length >= failedBefore + FAILED_SCANS,
          CHANGE_TIMEOUT_MS,
          `${FAILED_SCANS} failed rescans`,
        );
        expect((await service.request('GET', '/readyz')).status).toBe(200);
        expect((await versions(service)).map((v) => [v.version, v.status])).toEqual([[1, 'ready']]);
      } finally {
        await repair();
      }
    } finally {
      await traffic.stop();
    }
    const outcomes = traffic.outcomes;
    expect(outcomes.length).toBeGreaterThan(0);
    const wrong = wrongOutcomes(outcomes, keys);
    expect(describeOutcomes(wrong)).toBe('');
    // Nothing in the log names the registry's location to a client, but the log says what failed.
    const failure = logs.withMessage('registry scan failed').at(-1);
    expect(String(failure?.err)).toMatch(/ENOENT|ENOTDIR|EACCES/);
  }

  test(
    'renamed away (ENOENT, an unmounted volume): loaded versions keep serving',
    async () => {
      const away = `${service.registry}.away`;
      await survives(
        () => rename(service.registry, away),
        () => rename(away, service.registry),
      );
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'replaced by a regular file (ENOTDIR): loaded versions keep serving',
    async () => {
      const away = `${service.registry}.away`;
      await survives(
        async () => {
          await rename(service.registry, away);
          await writeFile(service.registry, 'not a directory');
        },
        async () => {
          await rm(service.registry);
          await rename(away, service.registry);
        },
      );
    },
    TEST_TIMEOUT_MS,
  );

  (IS_ROOT ? test.skip : test)(
    'without read permission (EACCES; not testable as root): loaded versions keep serving',
    async () => {
      await survives(
        () => chmod(service.registry, 0o000),
        () => chmod(service.registry, 0o755),
      );
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'once the directory is back, a newly published version is picked up',
    async () => {
      expect(await publishNextVersion(service.registry)).toBe(2);
      await waitUntil(
        async () => (await versions(service)).some((v) => v.version === 2 && v.status === 'ready'),
        CHANGE_TIMEOUT_MS,
        'version 2 to load',
      );
      const response = await service.predict(images[0], '?crop=none', 'image/png');
      expect(response.body.model.version).toBe(2);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('a model file deleted under a loaded version', () => {
  let registry: string;
  let service: TestService;
  let images: Buffer[];
  let keys: Map<number, AnswerKey>;

  beforeAll(async () => {
    registry = await freshRegistry();
    expect(await publishNextVersion(registry)).toBe(2);
    service = await startService({ registry, env: { REGISTRY_RESCAN_MS: String(RESCAN_MS) } });
    await waitUntil(
      async () => (await versions(service)).every((v) => v.status === 'ready'),
      CHANGE_TIMEOUT_MS,
      'both versions to load',
    );
    images = await distinctImages(IMAGES, 2);
    keys = new Map();
    for (const version of [1, 2]) {
      const predict = (image: Buffer) => service.predict(image, `?crop=none&version=${version}`, 'image/png');
      keys.set(version, await answerKey(predict, images));
    }
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await service?.close();
    await removeDir(registry);
  });

  test(
    'the version is reported failed, pinned requests get 404, the rest fall back without a failure',
    async () => {
      const unpinned = new Traffic(CLIENTS, IMAGES, (i) =>
        service.predict(images[i], '?crop=none', 'image/png'),
      );
      const pinnedToV1 = new Traffic(1, IMAGES, (i) =>
        service.predict(images[i], '?crop=none&version=1', 'image/png'),
      );
      let after = 0;
      try {
        await waitUntil(() => unpinned.count >= IMAGES, CHANGE_TIMEOUT_MS, 'traffic on version 2');
        await unlink(path.join(registry, TEST_MODEL, '2', 'model.onnx'));
        await waitUntil(
          async () => (await versions(service)).find((v) => v.version === 2)?.status === 'failed',
          CHANGE_TIMEOUT_MS,
          'version 2 to be reported failed',
        );
        after = unpinned.count;
        await waitUntil(() => unpinned.count >= after + IMAGES, CHANGE_TIMEOUT_MS, 'traffic after the fault');
      } finally {
        await Promise.all([unpinned.stop(), pinnedToV1.stop()]);
      }
      const outcomes = [...unpinned.outcomes, ...pinnedToV1.outcomes];

      const wrong = wrongOutcomes(outcomes, keys);
      expect(describeOutcomes(wrong)).toBe('');
      const served = outcomes.map((o) => o.body.model.version);
      expect(new Set(served)).toEqual(new Set([1, 2]));
      // Once version 2 is gone, every unpinned request is served by version 1.
      expect(unpinned.outcomes.slice(after).every((o) => o.body.model.version === 1)).toBe(true);

      const listed = await versions(service);
      const v2 = listed.find((v) => v.version === 2);
      expect(v2?.error).toMatch(/model\.onnx: missing/);
      expect(v2?.error).not.toContain(registry);
      const pinned = await service.predict(images[0], '?crop=none&version=2', 'image/png');
      expect(pinned.status).toBe(404);
      expect(pinned.body.error.code).toBe('MODEL_NOT_FOUND');
      expect((await service.request('GET', '/readyz')).status).toBe(200);
    },
    TEST_TIMEOUT_MS,
  );

  // The requests must reach their version's queue, so the photo needs a face the detector finds.
  (HAVE_PHOTOS ? test : test.skip)(
    'a request whose version goes away while its image is prepared is served by the version it now means' +
      (HAVE_PHOTOS ? '' : ` (skipped: ${PHOTOS_DIR} is absent)`),
    async () => {
      const photo = await readFile(path.join(PHOTOS_DIR, 'faceapi_happy.jpg'));
      expect(await publishNextVersion(registry)).toBe(3);
      await waitUntil(
        async () => (await versions(service)).find((v) => v.version === 3)?.status === 'ready',
        CHANGE_TIMEOUT_MS,
        'version 3 to load',
      );
      // Hold requests inside face detection (after they resolved their version, before its queue).
      let release = () => {};
      const gate = new Promise<void>((resolve) => (release = resolve));
      const detector = service.app.detector;
      const detect = detector.detect.bind(detector);
      let held = 0;
      detector.detect = async (...args) => {
        held++;
        await gate;
        return detect(...args);
      };
      try {
        const unpinned = service.predict(photo);
        const pinned = service.predict(photo, '?version=3');
        await waitUntil(() => held === 2, CHANGE_TIMEOUT_MS, 'both requests in detection');
        await unlink(path.join(registry, TEST_MODEL, '3', 'model.onnx'));
        await waitUntil(
          async () => (await versions(service)).find((v) => v.version === 3)?.status === 'failed',
          CHANGE_TIMEOUT_MS,
          'version 3 to be unloaded',
        );
        release();
        // Not a 503: the request without a version is served by the one it means now...
        const answer = await unpinned;
        expect(answer.status).toBe(200);
        expect(answer.body.model.version).toBe(1);
        // ...and the one pinned to the gone version learns that it is gone.
        const refused = await pinned;
        expect(refused.status).toBe(404);
        expect(refused.body.error.code).toBe('MODEL_NOT_FOUND');
      } finally {
        release();
        detector.detect = detect;
      }
    },
    TEST_TIMEOUT_MS,
  );
});
