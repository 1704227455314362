/**
 * Clients that go away:
 *   - mid-upload (raw and multipart bodies, with Content-Length and chunked): no work starts for
 *     them (no image is even probed), their connections are released, and the requests of other
 *     clients running meanwhile all get their own answers;
 *   - after the upload, while the request waits in the batching queue: its item is dropped before
 *     it costs compute (counted as cancelled), and the requests batched with it get their answers.
 */
import net from 'node:net';
import { metricValue } from '../../tools/prometheus-text';
import { createThreadedRuntime } from '../../src/runtime-host/threaded-runtime';
import { answerKey, distinctImages, type AnswerKey } from '../../tools/answer-key';
import { faultInjecting, type FaultInjection } from '../helpers/fault-injection';
import { READY_TIMEOUT_MS, startService, waitUntil, type TestService } from '../helpers/service';
import { describeOutcomes, Traffic, wrongOutcomes } from './traffic';

const SETUP_TIMEOUT_MS = READY_TIMEOUT_MS + 30_000;
const TEST_TIMEOUT_MS = 60_000;
/** Batches wait this long for company, so a request can be caught waiting in the queue. */
const BATCH_DELAY_MS = 250;
const IMAGES = 8;
/** Aborted uploads per kind of body (4 kinds), all at once. */
const ABORTS_PER_KIND = 10;
/** How long an aborting client keeps its half-sent request open before it disconnects. */
const HOLD_MS = 100;
const BOUNDARY = 'fer-abort-test';
const TRAFFIC_CLIENTS = 2;

let service: TestService;
let injection: FaultInjection;
let images: Buffer[];
let key: AnswerKey;

beforeAll(async () => {
  injection = faultInjecting(createThreadedRuntime);
  service = await startService({
    runtimeFactory: injection.factory,
    env: { BATCH_MAX_SIZE: '64', BATCH_MAX_DELAY_MS: String(BATCH_DELAY_MS) },
  });
  images = await distinctImages(IMAGES, 5);
  key = await answerKey((image) => service.predict(image, '?crop=none', 'image/png'), images);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await service?.close();
});

async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  return metricValue((await service.request('GET', '/metrics')).text, name, labels);
}

function multipartBody(image: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n` +
        'Content-Type: image/png\r\n\r\n',
    ),
    image,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

/**
 * Opens a connection, sends the request head and `sent` bytes of the body, then either waits
 * `holdMs` and disconnects, or disconnects once `disconnectWhen` says so. Resolves when closed.
 */
async function sendAndVanish(
  contentType: string,
  body: Buffer,
  options: { chunked: boolean; sent: number; disconnectWhen?: () => Promise<boolean> },
): Promise<void> {
  const { port } = new URL(service.url);
  const socket = net.connect(Number(port), '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.on('error', () => undefined); // a reset after we hang up is expected
  const length = options.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${body.length}`;
  socket.write(
    `POST /predict?crop=none HTTP/1.1\r\nHost: x\r\nContent-Type: ${contentType}\r\n${length}\r\n\r\n`,
  );
  const part = body.subarray(0, options.sent);
  socket.write(
    options.chunked
      ? Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')])
      : part,
  );
  if (options.disconnectWhen)
    await waitUntil(options.disconnectWhen, TEST_TIMEOUT_MS, 'the moment to disconnect');
  else await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.destroy();
  await closed;
}

test(
  'clients vanishing mid-upload cost no work and disturb no one',
  async () => {
    const probesBefore = await metric('fer_predict_stage_total', { stage: 'probe' });
    const traffic = new Traffic(TRAFFIC_CLIENTS, IMAGES, (i) =>
      service.predict(images[i], '?crop=none', 'image/png'),
    );
    try {
      const kinds = [
        { contentType: 'image/png', body: images[0], chunked: false },
        { contentType: 'image/png', body: images[0], chunked: true },
        {
          contentType: `multipart/form-data; boundary=${BOUNDARY}`,
          body: multipartBody(images[0]),
          chunked: false,
        },
        {
          contentType: `multipart/form-data; boundary=${BOUNDARY}`,
          body: multipartBody(images[0]),
          chunked: true,
        },
      ];
      await Promise.all(
        kinds.flatMap((kind) =>
          Array.from({ length: ABORTS_PER_KIND }, () =>
            sendAndVanish(kind.contentType, kind.body, {
              chunked: kind.chunked,
              sent: kind.body.length >> 1,
            }),
          ),
        ),
      );
      await waitUntil(() => traffic.count >= IMAGES, TEST_TIMEOUT_MS, 'traffic during the aborts');
    } finally {
      await traffic.stop();
    }
    expect(describeOutcomes(wrongOutcomes(traffic.outcomes, new Map([[1, key]])))).toBe('');
    // Every probed image was one of the traffic's: none of the half-sent uploads was looked at.
    const probes = (await metric('fer_predict_stage_total', { stage: 'probe' })) - probesBefore;
    expect(probes).toBe(traffic.count);
    // The vanished clients' connections are released: only fetch's idle keep-alive ones remain
    // (the traffic clients' and the test's own), not the 40 aborted ones.
    const connections = await new Promise<number>((resolve, reject) =>
      service.app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
    );
    expect(connections).toBeLessThanOrEqual(TRAFFIC_CLIENTS + 2);
  },
  TEST_TIMEOUT_MS,
);

test(
  'a client vanishing while its request waits in the batching queue costs no compute',
  async () => {
    const cancelledBefore = await metric('fer_batch_items_total', { outcome: 'cancelled' });
    const batchesBefore = injection.batchSizes.length;
    const others = [1, 2, 3];
    const answers = others.map((index) => service.predict(images[index], '?crop=none', 'image/png'));
    // The vanishing request joins the same queue, then its client hangs up before the batch leaves.
    await sendAndVanish('image/png', images[0], {
      chunked: false,
      sent: images[0].length,
      disconnectWhen: async () => service.app.batcher.depth >= others.length + 1,
    });
    const responses = await Promise.all(answers);
    responses.forEach((response, i) => {
      expect(response.status).toBe(200);
      expect(key.isAnswerTo(others[i], response.body.faces[0].probabilities)).toBe(true);
    });
    expect((await metric('fer_batch_items_total', { outcome: 'cancelled' })) - cancelledBefore).toBe(1);
    // The batch that ran held only the requests whose clients were still there.
    expect(injection.batchSizes.slice(batchesBefore)).toEqual([others.length]);
  },
  TEST_TIMEOUT_MS,
);
