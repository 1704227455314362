/**
 * Runtime faults under concurrent load, with distinct inputs whose correct answers differ (an
 * answer key computed one request at a time first):
 *   - the runtime throws for one batch: exactly that batch's requests get 500 INFERENCE_FAILED,
 *     every other request gets its own answer, and the next requests all succeed;
 *   - the runtime's worker thread dies in the middle of a batch: that batch fails the same way, the
 *     worker is replaced with the model reloaded, and the following batches answer correctly.
 */
import type { Worker } from 'node:worker_threads';
import { metricValue } from '../../tools/prometheus-text';
import { ThreadedRuntime } from '../../src/runtime-host/threaded-runtime';
import type { InferenceRuntime, RuntimeFactory } from '../../src/runtime/types';
import { answerKey, distinctImages, shuffledIndices, type AnswerKey } from '../../tools/answer-key';
import { faultInjecting, type FaultInjection } from '../helpers/fault-injection';
import { READY_TIMEOUT_MS, startService, type Sent, type TestService } from '../helpers/service';

const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;
const TEST_TIMEOUT_MS = 60_000;
const IMAGES = 12;
/** Each image is sent this many times in one burst (a shuffled order per round). */
const ROUNDS = 3;
/** Small batches that wait a little: a burst makes several batches, each of several requests. */
const BATCHING = { BATCH_MAX_SIZE: '4', BATCH_MAX_DELAY_MS: '20' };

let service: TestService;
let injection: FaultInjection;
let images: Buffer[];
let key: AnswerKey;
/** When set, the next runtime.run kills its worker thread right after handing it the batch. */
let killWorkerOnNextRun = false;

/** Threaded runtimes whose worker thread can be killed while it computes a batch, as a crash would. */
const killable: RuntimeFactory = (kind, options) => {
  const runtime = new ThreadedRuntime(kind, options);
  const wrapped: InferenceRuntime = {
    kind: runtime.kind,
    load: (dir, metadata) => runtime.load(dir, metadata),
    dispose: () => runtime.dispose(),
    run: (input, n) => {
      if (killWorkerOnNextRun) {
        // The worker starts dying just as the batch is handed to it (killing it after the hand-over
        // races a tiny model, which may answer first): the batch is lost with the worker.
        killWorkerOnNextRun = false;
        void (runtime as unknown as { worker: Worker }).worker.terminate();
      }
      return runtime.run(input, n);
    },
  };
  return wrapped;
};

beforeAll(async () => {
  injection = faultInjecting(killable);
  service = await startService({ runtimeFactory: injection.factory, env: BATCHING });
  images = await distinctImages(IMAGES, 3);
  key = await answerKey((image) => service.predict(image, '?crop=none', 'image/png'), images);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await service?.close();
});

interface Answer {
  index: number;
  response: Sent;
}

/** Sends every image ROUNDS times at once, in a shuffled order. */
async function burst(seed: number): Promise<Answer[]> {
  const order = shuffledIndices(IMAGES, ROUNDS, seed);
  return Promise.all(
    order.map(async (index) => ({
      index,
      response: await service.predict(images[index], '?crop=none', 'image/png'),
    })),
  );
}

async function failedItems(): Promise<number> {
  const metrics = await service.request('GET', '/metrics');
  return metricValue(metrics.text, 'fer_batch_items_total', { outcome: 'failed' });
}

/** What one answer of a burst was: its own image's answer, someone else's, or an error. */
function verdict({ index, response }: Answer): string {
  if (response.status !== 200) return `${response.status} ${response.body?.error?.code}`;
  const owner = key.owner(response.body.faces[0].probabilities);
  return owner === index ? 'own answer' : `image ${index} got the answer of ${owner ?? 'no image'}`;
}

/**
 * Checks a burst in which exactly one batch failed: each of its requests got 500, each other
 * request its own image's answer (from the key). A lost request would have failed the burst's
 * Promise.all with its connection error.
 */
async function expectOneFailedBatch(answers: Answer[], failedBatchSize: number): Promise<void> {
  const verdicts = answers.map(verdict);
  expect(verdicts.filter((v) => v !== 'own answer')).toEqual(
    Array(failedBatchSize).fill('500 INFERENCE_FAILED'),
  );
  expect(verdicts.filter((v) => v === 'own answer')).toHaveLength(IMAGES * ROUNDS - failedBatchSize);
  for (const { response } of answers.filter((a) => a.response.status !== 200)) {
    expect(response.text).not.toMatch(/\n\s+at |\/tmp\/|node_modules|injected|worker/);
  }
}

test(
  'the runtime throws for one batch: only that batch fails, every other request gets its own answer',
  async () => {
    const failedBefore = await failedItems();
    const batchesBefore = injection.batchSizes.length;
    injection.failNextBatches(1);
    const answers = await burst(1);
    const failedBatchSize = injection.batchSizes[batchesBefore];
    expect(failedBatchSize).toBeGreaterThanOrEqual(1);
    // The burst was batched: the fault hit one batch among several requests' batches.
    expect(Math.max(...injection.batchSizes.slice(batchesBefore))).toBeGreaterThan(1);
    await expectOneFailedBatch(answers, failedBatchSize);
    expect((await failedItems()) - failedBefore).toBe(failedBatchSize);

    const after = await burst(2);
    expect(after.filter((a) => a.response.status !== 200)).toEqual([]);
    await expectOneFailedBatch(after, 0);
  },
  TEST_TIMEOUT_MS,
);

test(
  'the runtime worker dies mid-batch: that batch fails, the worker is replaced and the model reloaded',
  async () => {
    const batchesBefore = injection.batchSizes.length;
    killWorkerOnNextRun = true;
    const answers = await burst(3);
    expect(killWorkerOnNextRun).toBe(false);
    await expectOneFailedBatch(answers, injection.batchSizes[batchesBefore]);

    const after = await burst(4);
    expect(after.filter((a) => a.response.status !== 200)).toEqual([]);
    await expectOneFailedBatch(after, 0);
    expect((await service.request('GET', '/readyz')).status).toBe(200);
  },
  TEST_TIMEOUT_MS,
);
