/**
 * Property-based fuzzing of POST /predict over real HTTP (fast-check): mutated JPEG/PNG/WebP files
 * (see base-images.ts and image-mutations.ts) as raw bodies and multipart uploads, random multipart
 * framings, and random query strings. For every case: the answer is a documented status with a
 * body that matches openapi.yaml (no stack trace, no file path), accepted images respect the pixel
 * limit, oracle-known cases get exactly their status (and their own probabilities), and a normal
 * request right after it succeeds. At the end, memory has not grown since before the first case: V8
 * heap after GC, the face detector's TF.js tensors, and the process RSS.
 *
 * `npm test` runs a short pass with a fixed seed; `npm run test:fuzz` a long one (run-fuzz.ts).
 */
import { writeFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import fc from 'fast-check';
import { answerKey, distinctImages, type AnswerKey } from '../../tools/answer-key';
import { READY_TIMEOUT_MS, startService, type Sent, type TestService } from '../helpers/service';
import { TEST_MODEL } from '../helpers/test-models';
import { baseImages, type BaseImage } from './base-images';
import { fuzzSettings } from './fuzz-settings';
import { mutate, mutationArbitrary } from './image-mutations';
import { contentTypeOf, expectedStatuses, framingArbitrary, serialize } from './multipart-framing';
import { expectedStatus, queryArbitrary, queryString } from './query-strings';

const settings = fuzzSettings(process.env);
const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;
/** A pixel limit low enough that the corpus's big declared sizes cross it (10000x1 does not). */
const MAX_IMAGE_PIXELS = 4_000_000;
/** Statuses an image upload may get (the rest of the contract, 5xx included, is a failure). */
const IMAGE_STATUSES = [200, 400, 415, 422];
/** What no error body may contain: stack frames, file-system paths, source locations. */
const LEAK = /\n\s+at |\/tmp\/|\/work\/|\/home\/|node_modules|\.ts:\d+|\.js:\d+/;
/** Softmax outputs are float32: their sum is 1 within this. */
const PROBABILITY_SUM_TOLERANCE = 1e-4;
/** Heap after GC may differ by this much between two quiet moments (lazily built caches). */
const HEAP_GROWTH_LIMIT_BYTES = 24 * 1024 * 1024;
/** RSS includes native allocator pools that do not shrink; growth beyond this is a leak. */
const RSS_GROWTH_LIMIT = 0.25;

/** V8's collector, made callable without the --expose-gc command-line flag. */
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

let service: TestService;
let corpus: BaseImage[];
let face: Buffer;
let key: AnswerKey;
let cases = 0;
/** Memory before the first case (after a warm-up), against which the end is compared. */
let baseline: { heap: number; rss: number; tensors: number[] };
/** Answers per property by status and error code, for the report of `npm run test:fuzz`. */
const tally: Record<string, Record<string, number>> = {};
const report: Record<string, unknown> = { seed: settings.seed, runs: settings.runs };

function count(property: string, response: Sent): void {
  const outcome = `${response.status}${response.body?.error ? ` ${response.body.error.code}` : ''}`;
  tally[property] ??= {};
  tally[property][outcome] = (tally[property][outcome] ?? 0) + 1;
}

beforeAll(async () => {
  service = await startService({ env: { MAX_IMAGE_PIXELS: String(MAX_IMAGE_PIXELS) } });
  corpus = await baseImages();
  // Two distinct images: the key proves answers are told apart; the first is "the normal request".
  const images = await distinctImages(2, 7);
  face = images[0];
  key = await answerKey((image) => service.predict(image, '?crop=none', 'image/png'), images);
  // The memory baseline comes before any case, after one pass of the unmutated corpus through each
  // delivery (the lazily built caches of decoders and the detector, which a quiet service has too).
  for (const image of corpus) {
    await service.predict(image.bytes, '', image.mediaType);
    await service.predictMultipart([
      { field: 'image', bytes: image.bytes, filename: 'warm-up', type: image.mediaType },
    ]);
  }
  baseline = await memory();
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await service?.close();
  // run-fuzz.ts asks for the figures; a plain jest run does not write anything.
  const file = process.env.FUZZ_REPORT_FILE;
  if (file) writeFileSync(file, JSON.stringify({ ...report, cases, outcomes: tally }, null, 2));
});

const fcParameters = (): fc.Parameters<unknown> => ({
  numRuns: settings.runs,
  seed: settings.seed,
  path: settings.path,
  endOnFailure: true,
});

/** Checks everything every answer must satisfy, whatever was sent. */
function expectWellFormed(response: Sent, allowed: readonly number[]): void {
  if (!allowed.includes(response.status)) {
    throw new Error(
      `status ${response.status} not in [${allowed.join(', ')}]: ${response.text.slice(0, 300)}`,
    );
  }
  // (The openapi.yaml check already ran on every response in service.request.)
  if (response.status >= 400 && LEAK.test(response.text))
    throw new Error(`error body leaks internals: ${response.text}`);
  if (response.status === 200) {
    const { image, faces } = response.body;
    if (image.width * image.height > MAX_IMAGE_PIXELS)
      throw new Error(`accepted a ${image.width}x${image.height} image`);
    for (const found of faces) {
      const sum = Object.values(found.probabilities as Record<string, number>).reduce((a, b) => a + b, 0);
      if (Math.abs(sum - 1) > PROBABILITY_SUM_TOLERANCE) throw new Error(`probabilities sum to ${sum}`);
    }
  }
}

/** The normal request after each case: it must succeed with its own answer. */
async function expectStillServing(): Promise<void> {
  cases++;
  const response = await service.predict(face, '?crop=none', 'image/png');
  if (response.status !== 200 || !key.isAnswerTo(0, response.body.faces[0].probabilities)) {
    throw new Error(
      `the normal request after a case failed: ${response.status} ${response.text.slice(0, 300)}`,
    );
  }
}

async function memory(): Promise<{ heap: number; rss: number; tensors: number[] }> {
  collectGarbage();
  collectGarbage();
  const pool = (service.app.detector as unknown as { pool: { tensorCounts(): Promise<number[]> } }).pool;
  return {
    heap: process.memoryUsage().heapUsed,
    rss: process.memoryUsage().rss,
    tensors: await pool.tensorCounts(),
  };
}

test(
  'mutated JPEG, PNG and WebP files get documented answers',
  async () => {
    const imageCase = fc.record({
      base: fc.nat({ max: 1_000 }),
      mutation: mutationArbitrary,
      delivery: fc.constantFrom('raw', 'raw-mislabelled', 'multipart'),
      query: fc.constantFrom('?crop=none', '', '?faces=largest', '?crop=none&max_faces=1'),
    });
    await fc.assert(
      fc.asyncProperty(imageCase, async ({ base, mutation, delivery, query }) => {
        const image = corpus[base % corpus.length];
        const bytes = mutate(image.bytes, mutation);
        const response =
          delivery === 'multipart'
            ? await service.predictMultipart(
                [{ field: 'image', bytes, filename: 'upload', type: image.mediaType }],
                query,
              )
            : await service.predict(bytes, query, delivery === 'raw' ? image.mediaType : 'image/webp');
        count('images', response);
        expectWellFormed(response, IMAGE_STATUSES);
        if (mutation.kind === 'none') {
          // Unmutated images: well-formed ones are served, unsupported formats refused as such.
          const expected = image.name.startsWith('unsupported')
            ? 415
            : image.name.includes('claims')
              ? null
              : 200;
          if (expected !== null && response.status !== expected) {
            throw new Error(`${image.name}: expected ${expected}, got ${response.text.slice(0, 300)}`);
          }
        }
        await expectStillServing();
      }),
      fcParameters(),
    );
  },
  settings.timeoutMs,
);

test(
  'random multipart framings get documented answers, exact where the framing is well formed',
  async () => {
    await fc.assert(
      fc.asyncProperty(framingArbitrary, async (framing) => {
        const response = await service.request('POST', '/predict?crop=none', {
          headers: { 'content-type': contentTypeOf(framing) },
          body: serialize(framing, face),
        });
        count('multipart', response);
        const allowed = expectedStatuses(framing, face);
        expectWellFormed(response, allowed);
        if (response.status === 200 && !key.isAnswerTo(0, response.body.faces[0].probabilities)) {
          throw new Error('a multipart upload got another image’s answer');
        }
        await expectStillServing();
      }),
      fcParameters(),
    );
  },
  settings.timeoutMs,
);

test(
  'random query strings get exactly the status their parameters call for',
  async () => {
    await fc.assert(
      fc.asyncProperty(queryArbitrary(TEST_MODEL), async (query) => {
        const response = await service.predict(face, queryString(query), 'image/png');
        count('query', response);
        const expected = expectedStatus(query);
        expectWellFormed(response, [expected]);
        await expectStillServing();
      }),
      fcParameters(),
    );
  },
  settings.timeoutMs,
);

test('memory has not grown over the cases', async () => {
  const after = await memory();
  report.memory = { baseline, after };
  expect(cases).toBeGreaterThanOrEqual(3 * settings.runs);
  expect(after.tensors).toEqual(baseline.tensors);
  expect(after.heap - baseline.heap).toBeLessThan(HEAP_GROWTH_LIMIT_BYTES);
  expect(after.rss / baseline.rss - 1).toBeLessThan(RSS_GROWTH_LIMIT);
});
