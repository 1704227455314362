/**
 * Readiness and the default-model failover over real HTTP (issue 16, items 1 and 2):
 *   - /readyz stays 503 while the default model or any version found at start-up is still loading
 *     (loads are held open by the test), and a replica that answered 200 serves the plain request
 *     sent right after it;
 *   - when the default model's only version breaks under traffic, requests without `model` fail
 *     over to FALLBACK_MODEL (its own answers), a request naming the broken model gets 404, /readyz
 *     stays 200 and /readyz and /models say what happened; a valid replacement ends the failover.
 */
import { unlink } from 'node:fs/promises';
import path from 'node:path';
import { createThreadedRuntime } from '../../src/runtime-host/threaded-runtime';
import type { RuntimeFactory } from '../../src/runtime/types';
import { answerKey, distinctImages, type AnswerKey } from '../../tools/answer-key';
import { READY_TIMEOUT_MS, startService, waitUntil, type TestService } from '../helpers/service';
import { freshRegistry, publishNextVersion, removeDir, TEST_MODEL } from '../helpers/test-models';
import { describeOutcomes, Traffic } from '../faults/traffic';

const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;
const TEST_TIMEOUT_MS = 90_000;
/** A rescan plus a model load on a busy machine. */
const CHANGE_TIMEOUT_MS = 30_000;
const RESCAN_MS = 200;
/** The second model of the registry: the seed-2 weights, so its answers differ from `tiny`'s. */
const FALLBACK = 'backup';
const IMAGES = 6;
/** Pause between readiness probes during start-up. */
const PROBE_PAUSE_MS = 20;

/** Runtimes whose load of the chosen versions waits until the test releases it. */
function holdingLoads(held: (name: string, version: number) => boolean) {
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const factory: RuntimeFactory = (kind, options) => {
    const runtime = createThreadedRuntime(kind, options);
    return {
      kind: runtime.kind,
      load: async (dir, metadata) => {
        if (held(metadata.name, metadata.version)) await gate;
        await runtime.load(dir, metadata);
      },
      run: (input, n) => runtime.run(input, n),
      dispose: () => runtime.dispose(),
    };
  };
  return { factory, release: () => release() };
}

async function statusOf(service: TestService, name: string, version: number): Promise<string | undefined> {
  const { models } = (await service.request('GET', '/models')).body as {
    models: { name: string; versions: { version: number; status: string }[] }[];
  };
  return models.find((m) => m.name === name)?.versions.find((v) => v.version === version)?.status;
}

describe('readiness during start-up', () => {
  let image: Buffer;

  beforeAll(async () => {
    [image] = await distinctImages(1, 5);
  }, SETUP_TIMEOUT_MS);

  /**
   * Starts the service over `registry` with some loads held (versions load one after another,
   * newest first), checks /readyz is 503 once `loadedFirst` serves, then releases them; meanwhile
   * every 200 of /readyz is followed by a plain request, which must be served.
   */
  async function readyOnlyAfter(
    registry: string,
    held: (name: string, version: number) => boolean,
    loadedFirst: [string, number],
  ): Promise<void> {
    const loads = holdingLoads(held);
    const service = await startService({
      registry,
      runtimeFactory: loads.factory,
      waitFor: 'nothing',
      env: { DEFAULT_MODEL: TEST_MODEL },
    });
    const servedAfterReady: number[] = [];
    const refusals: string[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        const ready = await service.request('GET', '/readyz');
        if (ready.status === 200) {
          servedAfterReady.push((await service.predict(image, '?crop=none', 'image/png')).status);
        } else if (ready.body.error.code !== 'NOT_READY' || ready.headers['retry-after'] === undefined) {
          refusals.push(ready.text);
        }
        await new Promise((resolve) => setTimeout(resolve, PROBE_PAUSE_MS));
      }
    })();
    try {
      await waitUntil(
        async () => (await statusOf(service, ...loadedFirst)) === 'ready',
        CHANGE_TIMEOUT_MS,
        `${loadedFirst.join(' v')} to load`,
      );
      expect(servedAfterReady).toEqual([]);
      const ready = await service.request('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.error.message).toMatch(/still loading/);
      loads.release();
      await waitUntil(() => servedAfterReady.length >= 3, CHANGE_TIMEOUT_MS, 'readiness after the loads');
    } finally {
      probing = false;
      loads.release();
      await prober;
      await service.close();
      await removeDir(registry);
    }
    expect(refusals).toEqual([]);
    expect(servedAfterReady.every((status) => status === 200)).toBe(true);
  }

  test(
    'not ready while the default model is still loading, although another model is loaded',
    async () => {
      // backup v1 loads before tiny v1 (same version number, by name).
      const registry = await freshRegistry();
      expect(await publishNextVersion(registry, FALLBACK)).toBe(1);
      await readyOnlyAfter(registry, (name) => name === TEST_MODEL, [FALLBACK, 1]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'not ready while a version found at start-up is still loading, although the default serves',
    async () => {
      // tiny v2 loads first and serves; tiny v1 is held.
      const registry = await freshRegistry();
      expect(await publishNextVersion(registry)).toBe(2);
      await readyOnlyAfter(registry, (name, version) => name === TEST_MODEL && version === 1, [
        TEST_MODEL,
        2,
      ]);
    },
    TEST_TIMEOUT_MS,
  );
});

describe("the default model's only version breaks while serving", () => {
  let registry: string;
  let service: TestService;
  let images: Buffer[];
  let keys: Record<string, AnswerKey>;

  beforeAll(async () => {
    registry = await freshRegistry();
    expect(await publishNextVersion(registry, FALLBACK)).toBe(1);
    service = await startService({
      registry,
      env: { DEFAULT_MODEL: TEST_MODEL, FALLBACK_MODEL: FALLBACK, REGISTRY_RESCAN_MS: String(RESCAN_MS) },
    });
    images = await distinctImages(IMAGES, 11);
    keys = {};
    for (const name of [TEST_MODEL, FALLBACK]) {
      keys[name] = await answerKey(
        (image) => service.predict(image, `?crop=none&model=${name}`, 'image/png'),
        images,
      );
    }
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await service?.close();
    await removeDir(registry);
  });

  test(
    'plain requests fail over to FALLBACK_MODEL, /readyz stays 200 and says so, a replacement ends it',
    async () => {
      const ready = await service.request('GET', '/readyz');
      expect(ready.body).toMatchObject({ default_model: { name: TEST_MODEL, version: 1 }, failover: null });

      const traffic = new Traffic(2, IMAGES, (i) => service.predict(images[i], '?crop=none', 'image/png'));
      let failedOverAt = 0;
      try {
        await waitUntil(() => traffic.count >= IMAGES, CHANGE_TIMEOUT_MS, 'traffic on the default model');
        await unlink(path.join(registry, TEST_MODEL, '1', 'model.onnx'));
        await waitUntil(
          async () => (await statusOf(service, TEST_MODEL, 1)) === 'failed',
          CHANGE_TIMEOUT_MS,
          'the default model to be reported failed',
        );
        failedOverAt = traffic.count;
        await waitUntil(() => traffic.count >= failedOverAt + IMAGES, CHANGE_TIMEOUT_MS, 'traffic after it');
      } finally {
        await traffic.stop();
      }
      // Every plain request was answered, by the default model before and by the fallback after,
      // each with its own image's answer: never a 404 for a model the client did not name.
      const wrong = traffic.outcomes.filter(
        (o) =>
          o.status !== 200 || !keys[o.body.model.name]?.isAnswerTo(o.index, o.body.faces[0].probabilities),
      );
      expect(describeOutcomes(wrong)).toBe('');
      expect(traffic.outcomes.slice(failedOverAt).every((o) => o.body.model.name === FALLBACK)).toBe(true);

      const failover = {
        configured_model: TEST_MODEL,
        reason: expect.stringMatching(/no version that loaded/),
      };
      const during = await service.request('GET', '/readyz');
      expect(during.status).toBe(200);
      expect(during.body).toMatchObject({ default_model: { name: FALLBACK, version: 1 }, failover });
      const listed = await service.request('GET', '/models');
      expect(listed.body).toMatchObject({ default_model: FALLBACK, failover });
      // A client that names the broken model is told it cannot be served.
      const named = await service.predict(images[0], `?crop=none&model=${TEST_MODEL}`, 'image/png');
      expect(named.status).toBe(404);
      expect(named.body.error.code).toBe('MODEL_NOT_FOUND');

      // A valid replacement ends the failover.
      expect(await publishNextVersion(registry)).toBe(2);
      await waitUntil(
        async () => (await service.request('GET', '/readyz')).body.failover === null,
        CHANGE_TIMEOUT_MS,
        'the failover to end',
      );
      const after = await service.predict(images[0], '?crop=none', 'image/png');
      expect(after.body.model).toEqual({ name: TEST_MODEL, version: 2 });
      expect((await service.request('GET', '/models')).body.failover).toBeNull();
    },
    TEST_TIMEOUT_MS,
  );
});
