/**
 * @fer/client against the real service (`node --import tsx services/inference/src/server.ts`, what
 * `npm start` runs) over real HTTP, serving the shipped resnet-small: the API key, every kind of
 * image input, the API's error codes as FerApiError, a 503 while no model is loaded yet retried
 * after Retry-After until the model is there, and a 429 of the rate limiter likewise.
 * (The server process and the drawn face come from the inference workspace's scripts and helpers.)
 */
import { cp, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { spawnServer, type ServerProcess } from '../../../services/inference/tools/server-process';
import { faceCrop } from '../../../services/inference/test/helpers/images';
import { FerApiError, FerClient } from '../src';

const REPO_ROOT = path.resolve(__dirname, '../../..');
const SHIPPED_MODEL = path.join(REPO_ROOT, 'models', 'resnet-small');
/** Start-up of two service processes and a model load on a busy 2-core machine. */
const START_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = 60_000;
/** SIGTERM drains each service (DRAIN_TIMEOUT_MS below bounds it). */
const STOP_TIMEOUT_MS = 30_000;
const API_KEY = 'client-test-key-0123456789';
const POLL_MS = 200;

/** The highest numbered version folder of the shipped model: what a request naming no version gets. */
async function newestShippedVersion(): Promise<number> {
  const versions = (await readdir(SHIPPED_MODEL)).filter((n) => /^\d+$/.test(n)).map(Number);
  return Math.max(...versions);
}

interface Running {
  server: ServerProcess;
  url: string;
  registry: string;
}

async function start(env: Record<string, string>, withModel: boolean): Promise<Running> {
  const registry = await mkdtemp(path.join(os.tmpdir(), 'fer-client-registry-'));
  if (withModel) await cp(SHIPPED_MODEL, path.join(registry, 'resnet-small'), { recursive: true });
  const server = spawnServer({
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    PORT: '0',
    HOST: '127.0.0.1',
    REGISTRY_DIR: registry,
    DETECTOR_WORKERS: '1',
    RUNTIME_THREADS: '1',
    REGISTRY_RESCAN_MS: '500',
    LOG_LEVEL: 'info',
    DRAIN_TIMEOUT_MS: '5000',
    ...env,
  });
  const deadline = Date.now() + START_TIMEOUT_MS;
  const ready = withModel ? '/readyz' : '/healthz';
  for (;;) {
    if (server.child.exitCode !== null) throw new Error(`the service exited:\n${server.output()}`);
    if (Date.now() > deadline) throw new Error(`the service did not start:\n${server.output()}`);
    const url = server.url();
    if (
      url &&
      (await fetch(url + ready).then(
        (r) => r.ok,
        () => false,
      ))
    )
      return { server, url, registry };
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function stop(running: Running | undefined): Promise<void> {
  if (!running) return;
  running.server.child.kill('SIGTERM');
  await running.server.exited;
  await rm(running.registry, { recursive: true, force: true });
}

/** A fetch that records each answer's status and time, then hands the answer on untouched. */
function recordingFetch(): {
  fetch: (request: Request) => Promise<Response>;
  seen: { status: number; at: number }[];
} {
  const seen: { status: number; at: number }[] = [];
  return {
    seen,
    fetch: async (request) => {
      const response = await fetch(request);
      seen.push({ status: response.status, at: Date.now() });
      return response;
    },
  };
}

let guarded: Running; // API keys on, no model at first
let limited: Running; // a rate limit of one request a second
let face: Buffer;

beforeAll(async () => {
  face = await faceCrop('png', 3);
  [guarded, limited] = await Promise.all([
    start({ API_KEYS: API_KEY, RATE_LIMIT_MAX: '0' }, false),
    start({ RATE_LIMIT_MAX: '1', RATE_LIMIT_WINDOW_MS: '1000' }, true),
  ]);
}, START_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all([stop(guarded), stop(limited)]);
}, STOP_TIMEOUT_MS);

describe('a service without a model yet, then with one', () => {
  test(
    'predict() is answered 503 NOT_READY, waits Retry-After each time, and succeeds once the model has loaded',
    async () => {
      const recorder = recordingFetch();
      const fer = new FerClient({
        baseUrl: guarded.url,
        apiKey: API_KEY,
        retry: { retries: 30, maxDelayMs: 5_000 },
        fetch: recorder.fetch,
      });
      const answer = fer.predict(face, { crop: 'none' });
      // Publish the model (atomically, as training does) once the first 503 has been seen.
      while (recorder.seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      const staging = path.join(guarded.registry, '.incoming');
      await cp(SHIPPED_MODEL, staging, { recursive: true });
      await rename(staging, path.join(guarded.registry, 'resnet-small'));

      const response = await answer;
      expect(response.model).toEqual({ name: 'resnet-small', version: await newestShippedVersion() });
      expect(response.faces).toHaveLength(1);
      const statuses = recorder.seen.map((s) => s.status);
      expect(statuses[0]).toBe(503);
      expect(statuses.at(-1)).toBe(200);
      expect(statuses.slice(0, -1).every((s) => s === 503)).toBe(true);
      // NOT_READY says Retry-After: 1; no try came sooner than that after a 503.
      recorder.seen
        .slice(1)
        .forEach((s, i) => expect(s.at - recorder.seen[i].at).toBeGreaterThanOrEqual(1000));
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'the API key is sent; without it the answer is FerApiError UNAUTHORIZED',
    async () => {
      const keyless = new FerClient({ baseUrl: guarded.url });
      const refused = await keyless.listModels().catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(FerApiError);
      expect(refused).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
      expect((refused as FerApiError).requestId).toMatch(/\S/);

      const fer = new FerClient({ baseUrl: `${guarded.url}/`, apiKey: API_KEY });
      const list = await fer.listModels();
      expect(list.models.map((m) => m.name)).toEqual(['resnet-small']);
      const version = await fer.modelVersion('resnet-small', 1);
      expect(version.metadata?.preprocessing.input_size).toBe(96);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    'a Buffer, a Blob, a web stream and a Node stream of the same image get the same answer',
    async () => {
      const fer = new FerClient({ baseUrl: guarded.url, apiKey: API_KEY });
      const inputs = [
        face,
        new Blob([face], { type: 'image/png' }),
        new Blob([face]).stream(),
        Readable.from([face.subarray(0, 100), face.subarray(100)]),
      ];
      const answers = [];
      for (const input of inputs) answers.push((await fer.predict(input, { crop: 'none' })).faces);
      for (const faces of answers.slice(1)) expect(faces).toEqual(answers[0]);
    },
    TEST_TIMEOUT_MS,
  );

  test(
    "the API's error codes come as FerApiError, unretried",
    async () => {
      const recorder = recordingFetch();
      const fer = new FerClient({ baseUrl: guarded.url, apiKey: API_KEY, fetch: recorder.fetch });
      const undecodable = await fer
        .predict(Buffer.from('these bytes are text, not an image'))
        .catch((error: unknown) => error);
      expect(undecodable).toBeInstanceOf(FerApiError);
      expect(undecodable).toMatchObject({ status: 422, code: 'UNDECODABLE_IMAGE' });
      const unknown = await fer
        .predict(face, { model: 'resnet152', version: 3 })
        .catch((error: unknown) => error);
      expect(unknown).toMatchObject({ status: 404, code: 'MODEL_NOT_FOUND' });
      expect((unknown as FerApiError).message).toMatch(/resnet152/);
      expect(recorder.seen.map((s) => s.status)).toEqual([422, 404]);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('a rate-limited service', () => {
  test(
    'a 429 is retried after its Retry-After; with retries off it is FerApiError RATE_LIMITED',
    async () => {
      const recorder = recordingFetch();
      const fer = new FerClient({ baseUrl: limited.url, retry: { retries: 5 }, fetch: recorder.fetch });
      const first = await fer.predict(face, { crop: 'none' });
      const second = await fer.predict(face, { crop: 'none' });
      expect(second.faces).toEqual(first.faces);
      const statuses = recorder.seen.map((s) => s.status);
      expect(statuses).toContain(429);
      expect(statuses.at(-1)).toBe(200);

      const impatient = new FerClient({ baseUrl: limited.url, retry: { retries: 0 } });
      const outcomes = await Promise.all(
        [1, 2, 3].map(() => impatient.predict(face, { crop: 'none' }).catch((error: unknown) => error)),
      );
      const refused = outcomes.find((o) => o instanceof FerApiError) as FerApiError | undefined;
      expect(refused).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
      expect(refused?.retryAfterS).toBeGreaterThanOrEqual(0);
    },
    TEST_TIMEOUT_MS,
  );
});
