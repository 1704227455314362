/**
 * SIGTERM to the real server process (`node --import tsx src/server.ts`, what `npm start` runs):
 *   - under load: every request the service accepted gets its own answer (checked against an
 *     answer key), requests arriving while it drains get 503 NOT_READY, later ones find the port
 *     closed; none is lost (no reset connection, no missing answer); the process exits 0;
 *   - while models are still loading: the process stops loading and exits 0 promptly.
 */
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { spawnServer, type ServerProcess } from '../../tools/server-process';
import { answerKey, distinctImages, type AnswerKey } from '../../tools/answer-key';
import { checkResponse } from '../helpers/openapi';
import { READY_TIMEOUT_MS, waitUntil } from '../helpers/service';
import { freshRegistry, removeDir, TEST_MODEL } from '../helpers/test-models';
import { describeOutcomes, Traffic, type Outcome } from './traffic';

const START_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;
const TEST_TIMEOUT_MS = START_TIMEOUT_MS + 60_000;
/** A drained service exits well within this (no batching delay to wait for, tiny models). */
const EXIT_TIMEOUT_MS = 15_000;
const IMAGES = 8;
const CLIENTS = 6;
/** Answers to collect before the signal, so it lands in the middle of steady traffic. */
const ANSWERS_BEFORE_SIGNAL = 40;
/** Extra copies of the model in the start-up test: loading them all takes seconds. */
const EXTRA_VERSIONS = 8;

function startServer(registry: string): ServerProcess {
  return spawnServer({
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    PORT: '0',
    HOST: '127.0.0.1',
    REGISTRY_DIR: registry,
    DETECTOR_WORKERS: '1',
    RATE_LIMIT_MAX: '0',
    LOG_LEVEL: 'info',
  });
}

async function predict(url: string, image: Buffer): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/predict?crop=none`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: image,
  });
  const body = await response.json();
  checkResponse('POST', '/predict?crop=none', {
    status: response.status,
    headers: Object.fromEntries(response.headers.entries()),
    body,
  });
  return { status: response.status, body };
}

/** True for the error fetch gives when nothing listens on the port any more. */
function refused(outcome: Outcome): boolean {
  return outcome.status === 0 && /ECONNREFUSED/.test(outcome.error ?? '');
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

test(
  'SIGTERM under load: accepted requests get their own answers, the rest 503 or a closed port',
  async () => {
    const registry = await freshRegistry();
    const server = startServer(registry);
    try {
      await waitUntil(() => server.url() !== '', READY_TIMEOUT_MS, 'the server to listen');
      const url = server.url();
      await waitUntil(
        async () =>
          (await fetch(`${url}/readyz`).then(
            (r) => r.status,
            () => 0,
          )) === 200,
        READY_TIMEOUT_MS,
        'readiness',
      );
      const images = await distinctImages(IMAGES, 6);
      const key: AnswerKey = await answerKey((image) => predict(url, image) as never, images);

      const traffic = new Traffic(CLIENTS, IMAGES, (i) => predict(url, images[i]) as never);
      let code: number | null;
      try {
        await waitUntil(() => traffic.count >= ANSWERS_BEFORE_SIGNAL, READY_TIMEOUT_MS, 'traffic');
        server.child.kill('SIGTERM');
        code = await withTimeout(server.exited, EXIT_TIMEOUT_MS, 'the drain');
        // Keep sending a little after the exit: those requests must find the port closed.
        const atExit = traffic.count;
        await waitUntil(() => traffic.count >= atExit + CLIENTS, EXIT_TIMEOUT_MS, 'requests after exit');
      } finally {
        await traffic.stop();
      }
      expect(code).toBe(0);
      expect(server.output()).toContain('draining before exit');

      const answered = traffic.outcomes.filter((o) => o.status === 200);
      const draining = traffic.outcomes.filter((o) => o.status === 503);
      const closed = traffic.outcomes.filter(refused);
      const other = traffic.outcomes.filter((o) => o.status !== 200 && o.status !== 503 && !refused(o));
      // Nothing lost: no reset connection or missing answer, no unexpected status.
      expect(describeOutcomes(other)).toBe('');
      expect(answered.length).toBeGreaterThanOrEqual(ANSWERS_BEFORE_SIGNAL);
      expect(closed.length).toBeGreaterThan(0);
      const mixedUp = answered.filter(
        (o) =>
          !key.isAnswerTo(
            o.index,
            (o.body as { faces: { probabilities: Record<string, number> }[] }).faces[0].probabilities,
          ),
      );
      expect(mixedUp).toEqual([]);
      for (const o of draining) expect((o.body as { error: { code: string } }).error.code).toBe('NOT_READY');
    } finally {
      server.child.kill('SIGKILL');
      await removeDir(registry);
    }
  },
  TEST_TIMEOUT_MS,
);

test(
  'SIGTERM while models are still loading: loading stops and the process exits 0',
  async () => {
    const registry = await freshRegistry();
    // Many versions of the model: each loads in turn (a worker thread and a session each).
    const source = path.join(registry, TEST_MODEL, '1');
    for (let version = 2; version <= EXTRA_VERSIONS + 1; version++) {
      const dir = path.join(registry, TEST_MODEL, String(version));
      await cp(source, dir, { recursive: true });
      const metadataFile = path.join(dir, 'metadata.json');
      const metadata = JSON.parse(await readFile(metadataFile, 'utf8'));
      await writeFile(metadataFile, JSON.stringify({ ...metadata, version }));
    }
    const server = startServer(registry);
    try {
      await waitUntil(() => server.url() !== '', READY_TIMEOUT_MS, 'the server to listen');
      await waitUntil(
        () => server.output().includes('model version loaded'),
        READY_TIMEOUT_MS,
        'a first load',
      );
      const loadedAtSignal = server.output().split('model version loaded').length - 1;
      server.child.kill('SIGTERM');
      expect(await withTimeout(server.exited, EXIT_TIMEOUT_MS, 'the exit')).toBe(0);
      const loaded = server.output().split('model version loaded').length - 1;
      // The signal came mid-load, and loading stopped: at most the load in progress finished.
      expect(loadedAtSignal).toBeLessThan(EXTRA_VERSIONS + 1);
      expect(loaded).toBeLessThanOrEqual(loadedAtSignal + 1);
    } finally {
      server.child.kill('SIGKILL');
      await removeDir(registry);
    }
  },
  TEST_TIMEOUT_MS,
);
