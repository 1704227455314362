/**
 * `npm run bench:service`: load-tests the service on loopback with autocannon and compares it with
 * the raw runtime on the same model, measured in the same run (README, "Inference service").
 *
 * Workloads: 48x48 face crops with crop=none, and 640-px photos with face detection; each at
 * several concurrencies with batching on (the configured defaults) and off (BATCH_MAX_SIZE=1).
 * Reports req/s, p50/p95/p99 latency, mean batch size and errors per run, the runtime's images/s
 * per batch size, optional RSS over a soak run, and the targets of the service issue. Results go
 * to stdout (a markdown table) and bench-results/service-<time>.json.
 *
 * Options: --registry DIR --model NAME (default: builds resnet152 at 64 px with make-model, cached
 * in bench-results/), --config NAME --input-size N, --duration S (10), --warmup S (2),
 * --concurrency 1,8,32,64, --workloads crops,photos, --batching on,off, --soak S (0), --runtime onnx,
 * --detector blazeface,tiny (each a service of its own, side by side in one run: the photos/s
 * ratio to TinyFaceDetector), --env KEY=VALUE (repeatable: extra service configuration to try).
 * Each fresh service first gets 100 photos; its resident memory then is reported (rss after 100
 * photos).
 */
import { access, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { listModels } from '@fer/shared';
import type { RuntimeKind } from '../../src/runtime/types';
import { summarizeLatency, type LatencySummary } from './latency';
import { metricValue } from '../prometheus-text';
import { rawThroughput, type RawThroughput } from './raw-runtime';
import { startService, type RunningService } from '../server-process';
import { BENCH_MODEL, FULL_SIZE_MAKE_MODEL_TIMEOUT_MS, makeModel } from '../make-model';
import { faceCrops, photos } from './workloads';
import { REPO_ROOT, RESULTS_DIR } from '../paths';

/** Seconds between RSS samples during the soak run, and the warm-up excluded from the check. */
const SOAK_SAMPLE_S = 10;
const SOAK_WARMUP_S = 30;
/** The issue's targets. */
const TARGET_SERVICE_VS_RAW = 0.7;
const TARGET_BATCHING_GAIN = 1.3;
const TARGET_PHOTOS_PER_S = 40;
/** Photos/s of the default detector over TinyFaceDetector's, measured in the same run. */
const TARGET_PHOTOS_VS_TINY = 2;
/** Resident memory after 100 photos (MB). */
const TARGET_RSS_AFTER_PHOTOS_MB = 450;
const RSS_PHOTOS = 100;
const RSS_PHOTOS_CONCURRENCY = 4;
const TARGET_RSS_DRIFT = 0.1;
const RAW_BATCHES = [1, 8, 16, 32];
/** Per-request timeout of the load generator (s): well past the service's own deadline. */
const CLIENT_TIMEOUT_S = 30;

interface RunResult {
  detector: string;
  workload: 'crops' | 'photos';
  batching: 'on' | 'off';
  concurrency: number;
  requests_per_s: number;
  latency_ms: LatencySummary;
  mean_batch_size: number | null;
  responses: Record<string, number>;
  connection_errors: number;
}

function options() {
  const { values } = parseArgs({
    options: {
      registry: { type: 'string' },
      model: { type: 'string' },
      config: { type: 'string', default: BENCH_MODEL.config },
      'input-size': { type: 'string', default: String(BENCH_MODEL.inputSize) },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      concurrency: { type: 'string', default: '1,8,32,64' },
      workloads: { type: 'string', default: 'crops,photos' },
      batching: { type: 'string', default: 'on,off' },
      soak: { type: 'string', default: '0' },
      runtime: { type: 'string', default: 'onnx' },
      detector: { type: 'string', default: 'blazeface' },
      env: { type: 'string', multiple: true, default: [] },
    },
    strict: true,
  });
  const list = (s: string) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  return {
    registry: values.registry,
    model: values.model,
    config: values.config as string,
    inputSize: Number(values['input-size']),
    duration: Number(values.duration),
    warmup: Number(values.warmup),
    concurrency: list(values.concurrency as string).map(Number),
    workloads: list(values.workloads as string) as ('crops' | 'photos')[],
    batching: list(values.batching as string) as ('on' | 'off')[],
    soak: Number(values.soak),
    runtime: values.runtime as RuntimeKind,
    detectors: list(values.detector as string),
    /** Extra service environment (KEY=VALUE), e.g. to try other batching or detector settings. */
    env: Object.fromEntries(
      (values.env as string[]).map((pair) => {
        const at = pair.indexOf('=');
        if (at < 1) throw new Error(`--env takes KEY=VALUE, got "${pair}"`);
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
    ),
  };
}

/** The benchmark's registry: the given one, or resnet152 at 64 px built once and kept in bench-results/. */
async function benchRegistry(opts: ReturnType<typeof options>): Promise<{ registry: string; model: string }> {
  if (opts.registry) {
    const models = await listModels(opts.registry);
    const model = opts.model ?? models.find((m) => m.latest !== null)?.name;
    if (!model) throw new Error(`no loadable model in ${opts.registry}`);
    return { registry: path.resolve(opts.registry), model };
  }
  const registry = path.join(RESULTS_DIR, `models-${opts.config}-${opts.inputSize}`);
  const model = opts.config;
  const built = await access(path.join(registry, model, '1', 'metadata.json')).then(
    () => true,
    () => false,
  );
  if (!built) {
    console.error(`building ${model} at ${opts.inputSize} px with random weights (make-model)...`);
    const request = { config: opts.config, inputSize: opts.inputSize, registry, name: model };
    await makeModel({ ...request, timeoutMs: FULL_SIZE_MAKE_MODEL_TIMEOUT_MS });
  }
  return { registry, model };
}

async function load(
  service: RunningService,
  bodies: Buffer[],
  query: string,
  concurrency: number,
  seconds: number,
): Promise<{ result: autocannon.Result; latencies: number[]; statuses: Record<string, number> }> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: service.url,
        connections: concurrency,
        duration: seconds,
        timeout: CLIENT_TIMEOUT_S,
        requests: bodies.map((body) => ({
          method: 'POST' as const,
          path: `/predict${query}`,
          headers: { 'content-type': 'image/jpeg' },
          body,
        })),
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      latencies.push(responseTime);
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    });
  });
  return { result, latencies, statuses };
}

/** Resident memory (MB) of a fresh service once it has answered `count` photos. */
async function rssAfterPhotos(service: RunningService, bodies: Buffer[], count: number): Promise<number> {
  let next = 0;
  await Promise.all(
    Array.from({ length: RSS_PHOTOS_CONCURRENCY }, async () => {
      while (next < count) {
        const body = bodies[next++ % bodies.length];
        const response = await fetch(`${service.url}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'image/jpeg' },
          body,
        });
        if (response.status === 503) {
          // Still warming up (another model of the registry may be ready first): send it again.
          next--;
          await response.text();
          await new Promise((resolve) => setTimeout(resolve, 500));
          continue;
        }
        if (response.status !== 200)
          throw new Error(`a photo got ${response.status}: ${await response.text()}`);
      }
    }),
  );
  return metricValue(await service.metrics(), 'process_resident_memory_bytes') / 2 ** 20;
}

async function batchTotals(service: RunningService): Promise<{ sum: number; count: number }> {
  const text = await service.metrics();
  return { sum: metricValue(text, 'fer_batch_size_sum'), count: metricValue(text, 'fer_batch_size_count') };
}

async function soak(service: RunningService, bodies: Buffer[], seconds: number) {
  const samples: { t: number; rss_mb: number }[] = [];
  const started = Date.now();
  const sampler = setInterval(() => {
    void service.metrics().then((text) =>
      samples.push({
        t: Math.round((Date.now() - started) / 1000),
        rss_mb: metricValue(text, 'process_resident_memory_bytes') / 2 ** 20,
      }),
    );
  }, SOAK_SAMPLE_S * 1000);
  const { result, statuses } = await load(service, bodies, '?crop=none', 32, seconds);
  clearInterval(sampler);
  const steady = samples.filter((s) => s.t >= SOAK_WARMUP_S);
  const base = steady[0]?.rss_mb ?? NaN;
  const drift = Math.max(...steady.map((s) => Math.abs(s.rss_mb - base) / base));
  return { seconds, requests_per_s: result.requests.average, responses: statuses, samples, max_drift: drift };
}

async function main(): Promise<void> {
  const opts = options();
  const { registry, model } = await benchRegistry(opts);
  const crops = await faceCrops();
  const photoSet = opts.workloads.includes('photos') ? await photos() : null;
  if (opts.workloads.includes('photos') && !photoSet)
    console.error('no ../shared/photos: skipping the photo workload');

  // The runtime alone, before and after the service runs: on a shared machine the load changes
  // during a run, and the better of the two is the fairer ceiling to compare the service with.
  const measureRaw = async (when: string): Promise<RawThroughput[]> => {
    console.error(`raw ${opts.runtime} runtime on ${model} (${when})...`);
    return rawThroughput(registry, model, undefined, opts.runtime, RAW_BATCHES);
  };
  const rawBefore = await measureRaw('before');

  const runs: RunResult[] = [];
  const memory: { detector: string; batching: string; rss_after_100_photos_mb: number }[] = [];
  let soakResult: Awaited<ReturnType<typeof soak>> | null = null;
  for (const detector of opts.detectors)
    for (const batching of opts.batching) {
      const env: Record<string, string> = {
        REGISTRY_DIR: registry,
        DEFAULT_MODEL: model,
        RUNTIME: opts.runtime,
        DETECTOR: detector,
        ...opts.env,
      };
      if (batching === 'off') Object.assign(env, { BATCH_MAX_SIZE: '1', BATCH_MAX_DELAY_MS: '0' });
      const service = await startService(env, { logLevel: 'info' });
      try {
        if (photoSet) {
          const rss = await rssAfterPhotos(service, photoSet.bodies, RSS_PHOTOS);
          memory.push({ detector, batching, rss_after_100_photos_mb: rss });
          console.error(JSON.stringify(memory.at(-1)));
        }
        for (const workload of opts.workloads) {
          const set = workload === 'crops' ? crops : photoSet;
          if (!set) continue;
          const query = workload === 'crops' ? '?crop=none' : '';
          for (const concurrency of opts.concurrency) {
            if (opts.warmup > 0) await load(service, set.bodies, query, concurrency, opts.warmup);
            const before = await batchTotals(service);
            const { result, latencies, statuses } = await load(
              service,
              set.bodies,
              query,
              concurrency,
              opts.duration,
            );
            const after = await batchTotals(service);
            const batches = after.count - before.count;
            const run: RunResult = {
              detector,
              workload,
              batching,
              concurrency,
              requests_per_s: (statuses['200'] ?? 0) / result.duration,
              latency_ms: summarizeLatency(latencies),
              mean_batch_size: batches > 0 ? (after.sum - before.sum) / batches : null,
              responses: statuses,
              connection_errors: result.errors,
            };
            runs.push(run);
            console.error(JSON.stringify(run));
          }
        }
        if (batching === 'on' && opts.soak > 0 && detector === opts.detectors[0]) {
          console.error(`soak: crops at concurrency 32 for ${opts.soak} s...`);
          soakResult = await soak(service, crops.bodies, opts.soak);
          console.error(JSON.stringify(soakResult));
        }
      } finally {
        await service.stop();
      }
    }

  const rawAfter = await measureRaw('after');
  const raw = rawBefore.map((before, i) => ({
    batch: before.batch,
    before: before.images_per_s,
    after: rawAfter[i].images_per_s,
    best: Math.max(before.images_per_s, rawAfter[i].images_per_s),
  }));
  const rawBest = Math.max(...raw.map((r) => r.best));

  const first = opts.detectors[0];
  const find = (w: string, b: string, c: number, d = first) =>
    runs.find((r) => r.workload === w && r.batching === b && r.concurrency === c && r.detector === d);
  const cropsOn32 = find('crops', 'on', 32);
  const cropsOff32 = find('crops', 'off', 32);
  const photosOn8 = find('photos', 'on', 8);
  const tinyPhotosOn8 = first === 'tiny' ? undefined : find('photos', 'on', 8, 'tiny');
  const firstMemory = memory.find((m) => m.detector === first && m.batching === 'on');
  const checks = [
    cropsOn32 && {
      target: `crops c32: service >= ${TARGET_SERVICE_VS_RAW} x raw runtime (${rawBest.toFixed(1)} img/s)`,
      value: cropsOn32.requests_per_s / rawBest,
      pass: cropsOn32.requests_per_s / rawBest >= TARGET_SERVICE_VS_RAW,
    },
    cropsOn32 &&
      cropsOff32 && {
        target: `crops c32: batching on >= ${TARGET_BATCHING_GAIN} x off`,
        value: cropsOn32.requests_per_s / cropsOff32.requests_per_s,
        pass: cropsOn32.requests_per_s / cropsOff32.requests_per_s >= TARGET_BATCHING_GAIN,
      },
    photosOn8 && {
      target: `photos c8 with detection (${first}) >= ${TARGET_PHOTOS_PER_S}/s`,
      value: photosOn8.requests_per_s,
      pass: photosOn8.requests_per_s >= TARGET_PHOTOS_PER_S,
    },
    photosOn8 &&
      tinyPhotosOn8 && {
        target: `photos c8: ${first} >= ${TARGET_PHOTOS_VS_TINY} x tiny in the same run (${tinyPhotosOn8.requests_per_s.toFixed(1)}/s)`,
        value: photosOn8.requests_per_s / tinyPhotosOn8.requests_per_s,
        pass: photosOn8.requests_per_s / tinyPhotosOn8.requests_per_s >= TARGET_PHOTOS_VS_TINY,
      },
    firstMemory && {
      target: `resident memory after ${RSS_PHOTOS} photos (${first}) <= ${TARGET_RSS_AFTER_PHOTOS_MB} MB`,
      value: firstMemory.rss_after_100_photos_mb,
      pass: firstMemory.rss_after_100_photos_mb <= TARGET_RSS_AFTER_PHOTOS_MB,
    },
    soakResult && {
      target: `RSS within +-${TARGET_RSS_DRIFT * 100}% over ${soakResult.seconds} s`,
      value: soakResult.max_drift,
      pass: soakResult.max_drift <= TARGET_RSS_DRIFT,
    },
  ].filter((c): c is { target: string; value: number; pass: boolean } => Boolean(c));

  const report = {
    model,
    registry,
    runtime: opts.runtime,
    crops: crops.source,
    load_average: os.loadavg(),
    raw,
    runs,
    memory,
    soak: soakResult,
    checks,
  };
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `service-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);

  const lines = [
    `model ${model} (${opts.runtime}), crops from ${crops.source}, env ${JSON.stringify(opts.env)}`,
    '',
    '| raw batch | images/s before | images/s after |',
    '|---|---|---|',
    ...raw.map((r) => `| ${r.batch} | ${r.before.toFixed(1)} | ${r.after.toFixed(1)} |`),
    '',
    '| detector | workload | batching | conc. | req/s | p50 ms | p95 ms | p99 ms | mean batch | responses | conn. errors |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...runs.map(
      (r) =>
        `| ${r.detector} | ${r.workload} | ${r.batching} | ${r.concurrency} | ${r.requests_per_s.toFixed(1)} | ${r.latency_ms.p50.toFixed(0)} | ` +
        `${r.latency_ms.p95.toFixed(0)} | ${r.latency_ms.p99.toFixed(0)} | ${r.mean_batch_size?.toFixed(2) ?? '-'} | ` +
        `${Object.entries(r.responses)
          .map(([s, n]) => `${s}:${n}`)
          .join(' ')} | ${r.connection_errors} |`,
    ),
    '',
    ...memory.map(
      (m) =>
        `rss after ${RSS_PHOTOS} photos, ${m.detector}, batching ${m.batching}: ${m.rss_after_100_photos_mb.toFixed(0)} MB`,
    ),
    `load average at the end (1, 5, 15 min): ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}`,
    '',
    ...checks.map((c) => `${c.pass ? 'PASS' : 'MISS'} ${c.target}: ${c.value.toFixed(2)}`),
    '',
    `written to ${path.relative(REPO_ROOT, file)}`,
  ];
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
